"""Generates `sample.txt`, fastbpe's small built-in corpus (used when `fastbpe train` or
`fastbpe encode` get no input file).

Everything is made here from word lists and templates written for fastbpe (no copied text), with a
fixed seed, so the file is the same on every run: short stories, dialogue with contractions,
how-to notes with numbers and dates, small code snippets, tables, and a few sentences in other
languages and scripts. Documents are separated by `<|endoftext|>` lines, as in common LM corpora.

    python python/fastbpe/data/make_sample.py [OUT] [KB]
"""

from __future__ import annotations

import random
import sys
from pathlib import Path

SEED = 1234
ENDOFTEXT = "<|endoftext|>"

NAMES = [
    "Ada",
    "Ben",
    "Chloe",
    "Dev",
    "Elena",
    "Farid",
    "Grace",
    "Hiro",
    "Ines",
    "Jonas",
    "Kemi",
    "Luca",
    "Maya",
    "Nils",
    "Olga",
    "Priya",
    "Quinn",
    "Rosa",
    "Sami",
    "Tara",
    "Uma",
    "Victor",
    "Wen",
    "Yusuf",
]
ANIMALS = [
    "fox",
    "owl",
    "rabbit",
    "turtle",
    "cat",
    "dog",
    "heron",
    "badger",
    "otter",
    "sparrow",
    "goat",
    "whale",
    "bee",
    "frog",
    "horse",
    "mouse",
]
ADJECTIVES = [
    "small",
    "brave",
    "curious",
    "quiet",
    "clever",
    "sleepy",
    "kind",
    "tiny",
    "old",
    "happy",
    "gentle",
    "stubborn",
    "shy",
    "bright",
    "lucky",
    "grumpy",
]
PLACES = [
    "the forest",
    "a little village",
    "the river bank",
    "the old library",
    "the market",
    "a windy hill",
    "the harbour",
    "the garden",
    "the train station",
    "the bakery",
    "the school",
]
OBJECTS = [
    "a red ball",
    "a silver key",
    "an old map",
    "a kite",
    "a jar of honey",
    "a lost shoe",
    "a wooden boat",
    "a blue umbrella",
    "a book of songs",
    "a basket of apples",
    "a lantern",
]
FEELINGS = ["happy", "sad", "surprised", "proud", "worried", "excited", "tired", "calm"]
VERBS = [
    "found",
    "painted",
    "carried",
    "shared",
    "fixed",
    "hid",
    "watched",
    "built",
    "followed",
    "dropped",
    "opened",
    "cleaned",
]
ENDINGS = [
    "From that day on, they were the best of friends.",
    "And that is why the {animal} never forgot {object}.",
    "Everyone laughed, and the day ended with warm soup.",
    "The sun went down, and {name} fell asleep with a smile.",
    "It wasn't easy, but they'd learned something new.",
    "Now, whenever it rains, {name} remembers that afternoon.",
]
SAYINGS = [
    "I don't know where it is.",
    "We'll find it together!",
    "It's not mine, is it?",
    "You're late again.",
    "They've gone home already.",
    "I'd like to help, if I can.",
    "Can't we wait a little longer?",
    "She's right, you know.",
    "Let's go before it's dark.",
    "What's that noise?",
    "He'll be back at 5 o'clock.",
    "We shouldn't have opened it...",
    "DON'T TOUCH THAT!",
    "Who's there?",
    "I'm sure it'll be fine.",
]
TOPICS = [
    ("bread", "flour", "water", "salt", "yeast"),
    ("tea", "leaves", "water", "honey", "lemon"),
    ("a bicycle", "tyres", "chain", "brakes", "saddle"),
    ("a garden bed", "soil", "seeds", "compost", "water"),
    ("a bookshelf", "boards", "screws", "glue", "paint"),
]
# Phrases per language, combined at random into sentences (so no long sentence repeats verbatim).
FOREIGN: dict[str, tuple[list[str], str, str]] = {
    # language: (phrases, joiner, sentence end)
    "fr": (
        [
            "le petit renard",
            "a trouvé une clé",
            "dans le jardin",
            "près de la rivière",
            "ce matin",
            "avec son amie",
            "n'est-ce pas",
            "sous la pluie",
            "à la gare",
        ],
        " ",
        ".",
    ),
    "de": (
        [
            "der kleine Fuchs",
            "fand einen Schlüssel",
            "im Garten",
            "am Fluss",
            "heute früh",
            "mit seiner Freundin",
            "nicht wahr",
            "im Regen",
            "am Bahnhof",
        ],
        " ",
        ".",
    ),
    "es": (
        [
            "el pequeño zorro",
            "encontró una llave",
            "en el jardín",
            "junto al río",
            "esta mañana",
            "con su amiga",
            "¿verdad?",
            "bajo la lluvia",
            "en la estación",
        ],
        " ",
        ".",
    ),
    "ru": (
        [
            "маленькая лиса",
            "нашла ключ",
            "в саду",
            "у реки",
            "сегодня утром",
            "с подругой",
            "под дождём",
            "на вокзале",
        ],
        " ",
        ".",
    ),
    "el": (
        [
            "η μικρή αλεπού",
            "βρήκε ένα κλειδί",
            "στον κήπο",
            "δίπλα στο ποτάμι",
            "σήμερα το πρωί",
            "στη βροχή",
        ],
        " ",
        ".",
    ),
    "zh": (
        [
            "小狐狸",
            "在花园里",
            "找到了",
            "一把钥匙",
            "今天早上",
            "在河边",
            "和朋友一起",
            "下雨了",
            "在车站",
        ],
        "，",
        "。",
    ),
    "ja": (
        [
            "小さなキツネが",
            "庭で",
            "鍵を",
            "見つけました",
            "今朝",
            "川のそばで",
            "友だちと",
            "雨の中",
            "駅で",
        ],
        "、",
        "。",
    ),
    "ko": (
        ["작은 여우가", "정원에서", "열쇠를", "찾았습니다", "오늘 아침", "강가에서", "친구와 함께"],
        " ",
        ".",
    ),
    "ar": (["الثعلب الصغير", "وجد مفتاحًا", "في الحديقة", "قرب النهر", "هذا الصباح"], " ", "."),
    "hi": (["छोटी लोमड़ी को", "बगीचे में", "एक चाबी मिली", "नदी के पास", "आज सुबह"], " ", "।"),
    "tr": (["küçük tilki", "bahçede", "bir anahtar buldu", "nehrin yanında", "bu sabah"], " ", "."),
    "pl": (
        [
            "mała lisica",
            "znalazła klucz",
            "w ogrodzie",
            "przy rzece",
            "dziś rano",
            "żółw się śmiał",
        ],
        " ",
        ".",
    ),
}
EMOJI = ["🙂", "🦊", "🌧️", "👍🏽", "🎉", "☕", "🚲", "📚", "❤️", "👩‍💻"]


def article(word: str) -> str:
    return "an" if word[0] in "aeiou" else "a"


def story(r: random.Random) -> str:
    name, animal = r.choice(NAMES), r.choice(ANIMALS)
    friend = r.choice([n for n in NAMES if n != name])
    adj, place, obj = r.choice(ADJECTIVES), r.choice(PLACES), r.choice(OBJECTS)
    paras = [
        f"Once upon a time, there was {article(adj)} {adj} {animal} named {name}. "
        f"{name} lived near {place} and loved {obj}."
    ]
    for _ in range(r.randint(2, 5)):
        verb, feeling = r.choice(VERBS), r.choice(FEELINGS)
        other = r.choice(OBJECTS)
        say = r.choice(SAYINGS)
        paras.append(
            r.choice(
                [
                    f"One day, {name} {verb} {other}. {name} felt {feeling}.",
                    f'"{say}" said {friend}. {name} looked at {other} and felt {feeling}.',
                    f"{friend} and {name} walked to {r.choice(PLACES)}. "
                    f'"{say}" {friend} whispered.',
                    f"It was {r.randint(2, 11)} o'clock when {name} {verb} {other}.",
                ]
            )
        )
    paras.append(r.choice(ENDINGS).format(animal=animal, object=obj, name=name))
    return "\n\n".join(paras) + "\n"


def howto(r: random.Random) -> str:
    thing, *parts = r.choice(TOPICS)
    lines = [f"How to make {thing} (notes, v{r.randint(1, 4)}.{r.randint(0, 9)})", ""]
    for i, p in enumerate(r.sample(parts, len(parts)), 1):
        amount = r.choice(
            [f"{r.randint(1, 900)} g", f"{r.randint(1, 12)} cups", f"{r.random():.2f} L"]
        )
        lines.append(f"{i}. Take {amount} of {p}; check it twice.")
    y, m, d = r.randint(1990, 2030), r.randint(1, 12), r.randint(1, 28)
    lines += [
        "",
        f"Last updated: {y}-{m:02d}-{d:02d}, {r.randint(0, 23):02d}:{r.randint(0, 59):02d}. "
        f"Cost: ${r.randint(1, 300)}.{r.randint(0, 99):02d} (about {r.randint(5, 95)}% less "
        f"than last year).",
        f"Tip:  don't rush step {r.randint(1, len(parts))}   -- it matters!",
    ]
    return "\n".join(lines) + "\n"


def code(r: random.Random) -> str:
    fn = r.choice(["count_words", "mean", "load_rows", "parse_date", "clamp"])
    n = r.randint(2, 9)
    return (
        f"def {fn}(items, limit={n}):\n"
        f'    """Return the {fn.replace("_", " ")} of the first {n} items."""\n'
        f"    total = 0\n"
        f"    for i, x in enumerate(items):\n"
        f"        if i >= limit:\n"
        f"            break\n"
        f"        total += x * {r.randint(1, 99)}\n"
        f"    return total / max(1, limit)  # {r.choice(['fast', 'simple', 'TODO: check'])}\n"
        f"\n\n"
        f"print({fn}([{', '.join(str(r.randint(0, 1000)) for _ in range(n))}]))\n"
    )


def table(r: random.Random) -> str:
    rows = ["| name | animal | score |", "|------|--------|------:|"]
    for _ in range(r.randint(3, 8)):
        rows.append(f"| {r.choice(NAMES)} | {r.choice(ANIMALS)} | {r.randint(0, 10000):,} |")
    return "\n".join(rows) + "\n"


def foreign_sentence(r: random.Random) -> str:
    phrases, joiner, end = FOREIGN[r.choice(sorted(FOREIGN))]
    words = r.sample(phrases, r.randint(2, min(5, len(phrases))))
    text = joiner.join(words)
    return text[0].upper() + text[1:] + end


def mixed(r: random.Random) -> str:
    lines = [foreign_sentence(r) for _ in range(r.randint(2, 4))]
    lines.append(" ".join(r.choice(EMOJI) for _ in range(r.randint(1, 5))) + "\t(end)")
    return "\n".join(lines) + "\n"


def generate(kilobytes: int = 300, seed: int = SEED) -> str:
    r = random.Random(seed)
    kinds = [story] * 6 + [howto] * 2 + [code, table, mixed]
    docs: list[str] = []
    size = 0
    while size < kilobytes * 1000:
        doc = r.choice(kinds)(r)
        docs.append(doc)
        size += len(doc.encode("utf-8")) + len(ENDOFTEXT) + 1
    return f"{ENDOFTEXT}\n".join(docs)


def main() -> None:
    out = Path(sys.argv[1]) if len(sys.argv) > 1 else Path(__file__).with_name("sample.txt")
    kb = int(sys.argv[2]) if len(sys.argv) > 2 else 300
    out.write_text(generate(kb), encoding="utf-8", newline="\n")
    print(f"wrote {out} ({out.stat().st_size:,} bytes)")


if __name__ == "__main__":
    main()
