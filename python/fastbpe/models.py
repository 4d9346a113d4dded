"""`encoding_for_model`: tiktoken's model-name lookup, for the models that use GPT-2's vocabulary
(the only encoding fastbpe ships). Other models' encodings can be wrapped from tiktoken:
`fastbpe.Encoding.from_tiktoken(tiktoken.encoding_for_model(name))`.
"""

from __future__ import annotations

from .encoding import Encoding
from .registry import get_encoding
from .tokenizer import StrPath

# tiktoken's MODEL_TO_ENCODING (tiktoken/model.py), the entries whose encoding is GPT-2's.
_R50K_MODELS = (
    "davinci",
    "curie",
    "babbage",
    "ada",
    "text-davinci-001",
    "text-curie-001",
    "text-babbage-001",
    "text-ada-001",
    "text-similarity-davinci-001",
    "text-similarity-curie-001",
    "text-similarity-babbage-001",
    "text-similarity-ada-001",
    "text-search-davinci-doc-001",
    "text-search-curie-doc-001",
    "text-search-babbage-doc-001",
    "text-search-ada-doc-001",
    "code-search-babbage-code-001",
    "code-search-ada-code-001",
)
MODEL_TO_ENCODING: dict[str, str] = {
    "gpt2": "gpt2",
    "gpt-2": "gpt2",
    **{model: "r50k_base" for model in _R50K_MODELS},
}


def encoding_name_for_model(model_name: str) -> str:
    """The encoding a model uses ("gpt2" or "r50k_base"); KeyError for other models."""
    try:
        return MODEL_TO_ENCODING[model_name]
    except KeyError:
        raise KeyError(
            f"Could not automatically map {model_name} to a tokeniser. fastbpe knows the models "
            "that use GPT-2's vocabulary (gpt2, davinci, curie, babbage, ada, text-*-001); for "
            "others wrap tiktoken's encoding: "
            "fastbpe.Encoding.from_tiktoken(tiktoken.encoding_for_model(model_name))"
        ) from None


def encoding_for_model(model_name: str, *, path: StrPath | None = None) -> Encoding:
    """`get_encoding(encoding_name_for_model(model_name))`, as in tiktoken."""
    return get_encoding(encoding_name_for_model(model_name), path=path)
