"""fastbpe: fast byte-level BPE — training, tiktoken-exact GPT-2 encoding, corpus pipelines.

>>> import fastbpe
>>> enc = fastbpe.get_encoding("gpt2")          # tiktoken's ids, faster
>>> enc.encode("hello world")
[31373, 995]
"""

import atexit

from . import _fastbpe, baselines
from .accounting import account
from .encoding import Encoding
from .io import EncodeFileResult, encode_file, load, load_tokens, save, save_format_for
from .models import encoding_for_model, encoding_name_for_model
from .registry import get_encoding, list_encoding_names
from .tokenizer import GPT2_PATTERN, Tokenizer
from .training import WordCounts, count_words, train, train_bpe, train_from_counts

__all__ = [
    "GPT2_PATTERN",
    "Encoding",
    "Tokenizer",
    "WordCounts",
    "count_words",
    "train",
    "train_bpe",
    "train_from_counts",
    "get_encoding",
    "encoding_for_model",
    "encoding_name_for_model",
    "list_encoding_names",
    "load",
    "save",
    "save_format_for",
    "encode_file",
    "load_tokens",
    "EncodeFileResult",
    "account",
    "baselines",
]
__version__ = "0.1.0"

# Threads still inside fastbpe when the program ends park instead of crashing the process
# (CPython < 3.14 would end them with pthread_exit): see rust/src/py/shutdown.rs.
atexit.register(_fastbpe._interpreter_exiting)
