"""A reproducible query mix shaped like a news portal's traffic.

Hand-written reader queries plus queries cut from sampled article titles (fixed seed): 1–4
syllables, half of them typed without diacritics, some quoted phrases, some with a date range or a
category, and some empty queries browsing a date range. Shared by ``queries.py`` and
``http_load.py`` so both measure the same mix.
"""

import gzip
import json
import random
import unicodedata
from dataclasses import asdict, dataclass
from pathlib import Path

CORPUS = Path(__file__).resolve().parents[2] / "shared" / "corpus"
SOURCES = ["vietnews/docs-test.jsonl.gz", "rss-headlines/docs.jsonl.gz", "unc-dantri/docs.jsonl.gz"]
HAND_WRITTEN = [
    "giá vàng",
    "gia vang hom nay",
    "bão số 3",
    "tai nạn giao thông",
    "học phí",
    "tuyển sinh đại học",
    "COVID-19",
    "TP.HCM",
    "Hà Nội",
    "bóng đá",
    "bong da viet nam",
    "thời tiết",
    "xăng dầu",
    "chứng khoán",
    "bat dong san",
    "tham nhũng",
    "Quốc hội",
    "giá điện",
    "ngập lụt",
    "lãi suất ngân hàng",
    "UBND tỉnh",
    "dịch sốt xuất huyết",
    "thi tốt nghiệp THPT",
    '"giá xăng"',
    "Đà Nẵng",
    "du lich Da Nang",
    "cháy nhà",
    "lừa đảo qua mạng",
    "khởi tố",
    "World Cup",
    "AI",
    "năng lượng tái tạo",
    "xuất khẩu gạo",
    "sạt lở",
]


@dataclass(frozen=True)
class MixQuery:
    q: str
    date_from: str | None = None
    date_to: str | None = None
    category: str | None = None

    def params(self) -> dict:
        return {k: v for k, v in asdict(self).items() if v}


def strip_marks(text: str) -> str:
    text = text.replace("đ", "d").replace("Đ", "D")
    return "".join(c for c in unicodedata.normalize("NFD", text) if not unicodedata.combining(c))


def sample_articles(n: int, rng: random.Random) -> list[dict]:
    """Reservoir-sample n articles with a title across the source files."""
    picked: list[dict] = []
    seen = 0
    for name in SOURCES:
        path = CORPUS / name
        if not path.exists():
            continue
        with gzip.open(path, "rt", encoding="utf-8") as fh:
            for line in fh:
                seen += 1
                if len(picked) < n:
                    picked.append(json.loads(line))
                elif (j := rng.randrange(seen)) < n:
                    picked[j] = json.loads(line)
    return [a for a in picked if a.get("title")]


def build(n: int = 400, seed: int = 7) -> list[MixQuery]:
    rng = random.Random(seed)
    mix = [MixQuery(q) for q in HAND_WRITTEN]
    for art in sample_articles(n, rng):
        words = art["title"].split()
        size = rng.choice([1, 2, 2, 3, 3, 4])
        start = rng.randrange(max(1, len(words) - size + 1))
        q = " ".join(w.strip(",.:;?!\"'()") for w in words[start : start + size])
        kind = rng.random()
        if kind < 0.5:
            q = strip_marks(q).lower()
        elif kind < 0.6:
            q = f'"{q}"'
        year = (art.get("date") or "")[:4]
        extra = rng.random()
        if extra < 0.15 and year:
            mix.append(MixQuery(q, f"{year}-01-01", f"{year}-12-31"))
        elif extra < 0.25 and art.get("category"):
            mix.append(MixQuery(q, category=art["category"]))
        elif extra < 0.30 and year:
            mix.append(MixQuery("", f"{year}-{rng.randint(1, 12):02d}-01", f"{year}-12-31"))
        else:
            mix.append(MixQuery(q))
    return mix
