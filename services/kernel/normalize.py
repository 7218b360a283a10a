"""Skill normalisation: free text to taxonomy skills, exact labels first, then fuzzy candidates.
Pure: an in-memory index over labels; no database, no I/O, no clock."""

import re
import unicodedata
from bisect import bisect_left
from collections import Counter, defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from functools import lru_cache
from itertools import chain

from rapidfuzz import fuzz, process

# At or above this confidence a caller may accept a match without a person confirming it;
# below it the match is a suggestion. Exact labels have 1.0, fuzzy matches at most 0.99.
CONFIDENT = 0.9
FUZZY_CEILING = 0.99
# Fuzzy scores (0-100) below this are noise rather than suggestions.
MIN_SCORE = 60.0
# Fuzzy candidates come from an inverted index of character n-grams of this length: 4-grams
# are rarer than trigrams, so the same merge budget covers more of a text (measured: better
# recall of typos at a third of the cost).
GRAM = 4
# Posting entries merged per text, rarest n-grams first: bounds the cost of common words.
POSTINGS_BUDGET = 3000
# Labels taken per text from the n-gram index, then scored with rapidfuzz.
CANDIDATES = 150
# Texts per normalize_many call.
MAX_BATCH = 1000

SKILL_GROUP = "skill group"


@dataclass(frozen=True)
class SkillLabels:
    """What the index needs of one skill: its id, preferred and alternative labels, type."""

    id: str
    label: str
    alt_labels: tuple[str, ...] = ()
    skill_type: str | None = None


@dataclass(frozen=True)
class Match:
    """One candidate skill for a text; confidence 1.0 only for an exact label."""

    skill_id: str
    label: str  # the skill's preferred label
    matched_label: str  # the label, preferred or alternative, that the text matched
    confidence: float


def confident(match: Match) -> bool:
    """Whether a caller may accept this match without a person confirming it."""
    return match.confidence >= CONFIDENT


_UNIFORM = str.maketrans(
    {
        **dict.fromkeys("\u2018\u2019\u201a\u201b\u2032\u0060\u00b4", "'"),
        **dict.fromkeys("\u201c\u201d\u201e\u201f\u2033\u00ab\u00bb", '"'),
        **dict.fromkeys("\u2010\u2011\u2012\u2013\u2014\u2015\u2212", "-"),
        "\u00ad": None,
    }
)
# Between tokens. `+ # .` stay inside tokens so that "C++", "C#" and ".NET" survive, and so do
# hyphens, apostrophes and `&` ("e-learning", "children's", "R&D").
_SEPARATORS = re.compile(r"[\s()\[\]{},;:/\\|!?\"*<>=~^_@%$]+")
_LEADING = "'-&+.#"
_TRAILING = "'-&."


def normalize_label(text: str) -> str:
    """The form labels and texts are compared in: NFKC, casefolded, uniform quotes and dashes,
    punctuation around tokens dropped, one space between tokens."""
    text = unicodedata.normalize("NFKC", text).translate(_UNIFORM).casefold()
    tokens = []
    for token in _SEPARATORS.split(text):
        token = token.rstrip(_TRAILING)
        # A leading dot names a technology (".net"); other leading punctuation is noise.
        if not (token[:1] == "." and token[1:2].isalnum()):
            token = token.lstrip(_LEADING)
        if token:
            tokens.append(token)
    return " ".join(tokens)


# Abbreviations common in CVs and job posts, spelled out the way ESCO labels spell them.
_ABBREVIATIONS = {
    "mgmt": "management",
    "mgt": "management",
    "ms": "microsoft",
    "hr": "human resources",
    "qa": "quality assurance",
    "seo": "search engine optimisation",
    "crm": "customer relationship management",
    "ml": "machine learning",
    "ai": "artificial intelligence",
    "ux": "user experience",
    "ui": "user interface",
    "js": "javascript",
    "dev": "development",
    "admin": "administration",
}
_SUFFIXES = ("ations", "ation", "ments", "ment", "ings", "ing", "ers", "er", "ies", "es", "ed", "s")


@lru_cache(maxsize=1 << 16)  # a taxonomy has some 20,000 distinct words
def _stem(word: str) -> str:
    """A crude English stem, enough to pair "management" with "manage", "budgeting" with
    "budgets"; ESCO labels are verb phrases, people type nouns."""
    if len(word) <= 4 or not word.isalpha():
        return word
    word = word.replace("iz", "is")  # ESCO spells -ise; people often type -ize
    for suffix in _SUFFIXES:
        if word.endswith(suffix) and len(word) - len(suffix) >= 3:
            word = word[: -len(suffix)]
            break
    if word[-1] == "e" and len(word) > 4:
        word = word[:-1]
    if len(word) > 3 and word[-1] == word[-2] and word[-1] not in "ls":
        word = word[:-1]
    return word


def _loose(key: str) -> str:
    """A normalised label with abbreviations spelled out and words stemmed."""
    return " ".join(
        _stem(word) for token in key.split(" ") for word in _ABBREVIATIONS.get(token, token).split()
    )


def _grams(key: str) -> set[str]:
    padded = " " * (GRAM - 1) + key + " "
    return {padded[i : i + GRAM] for i in range(len(padded) - GRAM + 1)}


@dataclass(frozen=True)
class _Owner:
    skill_id: str
    matched_label: str
    is_preferred: bool


# eq=False: two indexes are the same index only if they are one object; comparing ~100k
# labels would be a surprising cost of `==`.
@dataclass(frozen=True, eq=False)
class LabelIndex:
    """Normalised labels with their owners, an n-gram index for fuzzy candidates and a word
    index for prefix search; built by `build_index`, never changed afterwards."""

    preferred: dict[str, str]  # skill id -> preferred label
    groups: frozenset[str]  # ids of skill groups
    keys: list[str]  # normalised labels, sorted; a label's number is its position here
    loose: list[str]  # keys stemmed, abbreviations spelled out
    exact: dict[str, list[_Owner]]  # key -> owners, preferred-label owners and skills first
    postings: dict[str, list[int]]  # n-gram -> numbers of the keys holding it
    words: dict[str, list[int]]  # word -> numbers of the keys holding it
    vocabulary: list[str]  # the words, sorted

    def __len__(self) -> int:
        return len(self.preferred)


def build_index(skills: Iterable[SkillLabels]) -> LabelIndex:
    """Index the preferred and alternative labels of `skills`; the first record of an id wins."""
    preferred: dict[str, str] = {}
    groups: set[str] = set()
    owners: dict[str, dict[str, _Owner]] = defaultdict(dict)
    for skill in skills:
        if skill.id in preferred:
            continue
        preferred[skill.id] = skill.label
        if skill.skill_type == SKILL_GROUP:
            groups.add(skill.id)
        for position, label in enumerate((skill.label, *skill.alt_labels)):
            key = normalize_label(label)
            # A skill owns a key once, through its preferred label when it can.
            if key and (position == 0 or skill.id not in owners[key]):
                owners[key][skill.id] = _Owner(skill.id, label, position == 0)
    keys = sorted(owners)
    postings: dict[str, list[int]] = defaultdict(list)
    words: dict[str, list[int]] = defaultdict(list)
    for number, key in enumerate(keys):
        for gram in _grams(key):
            postings[gram].append(number)
        for word in set(key.split(" ")):
            words[word].append(number)
    return LabelIndex(
        preferred=preferred,
        groups=frozenset(groups),
        keys=keys,
        loose=[_loose(key) for key in keys],
        exact={
            key: sorted(
                owners[key].values(),
                key=lambda o: (not o.is_preferred, o.skill_id in groups, o.skill_id),
            )
            for key in keys
        },
        postings=dict(postings),
        words=dict(words),
        vocabulary=sorted(words),
    )


# How much each rapidfuzz scorer counts, and whether by how much of the longer string the
# shorter covers. Whole-string edit similarity catches typos and token sort word order; a label
# containing the text (or contained in it) counts for as much of it as it covers, and
# word-blind partial alignment a little less than that.
_SCORERS = (
    (fuzz.ratio, 1.0, False),
    (fuzz.token_sort_ratio, 0.95, False),
    (fuzz.token_set_ratio, 1.0, True),
    (fuzz.partial_ratio, 0.9, True),
)
# Stemmed, abbreviations spelled out: only the word-level scorers gain from it. Weighted so that
# stems alone never make a match confident ("marketing" and "market" are different skills).
_LOOSE_SCORERS = (
    (fuzz.token_sort_ratio, 0.9 * 0.95, False),
    (fuzz.token_set_ratio, 0.9, True),
)


def _similarities(text: str, keys: list[str], scorers: tuple, best: list[float]) -> None:
    """Raise best[i] to the weighted similarity (0-100) of `text` and keys[i] where higher."""
    covers = [0.7 + 0.25 * min(len(text), len(key)) / max(len(text), len(key), 1) for key in keys]
    for scorer, weight, covered in scorers:
        cutoff = MIN_SCORE / (weight * (0.95 if covered else 1.0))
        # One rapidfuzz call per scorer scores every candidate in C++.
        for _, raw, i in process.extract(
            text, keys, scorer=scorer, limit=None, score_cutoff=min(cutoff, 100)
        ):
            score = raw * weight * (covers[i] if covered else 1.0)
            if score > best[i]:
                best[i] = score


def _scores(index: LabelIndex, text: str, numbers: list[int]) -> list[float]:
    best = [0.0] * len(numbers)
    _similarities(text, [index.keys[n] for n in numbers], _SCORERS, best)
    _similarities(_loose(text), [index.loose[n] for n in numbers], _LOOSE_SCORERS, best)
    return best


def _confidence(score: float) -> float:
    return FUZZY_CEILING * score / 100.0


def _candidates(index: LabelIndex, text: str) -> list[int]:
    """The labels sharing most n-grams with `text`, counted over its rarest n-grams only:
    common ones ("ing ", "tion") are the costliest to merge and tell the least apart."""
    # Sorted first so that equally long posting lists are always taken in the same order.
    lists = sorted(
        (index.postings[gram] for gram in sorted(_grams(text)) if gram in index.postings), key=len
    )
    chosen: list[list[int]] = []
    size = 0
    for postings in lists:
        if chosen and size + len(postings) > POSTINGS_BUDGET:
            break
        chosen.append(postings)
        size += len(postings)
    counts = Counter(chain.from_iterable(chosen))
    if len(counts) <= CANDIDATES:
        return list(counts)
    # The smallest shared count that still leaves CANDIDATES labels: filtering on it is
    # cheaper than ranking every label seen.
    floor, total = 1, 0
    for shared, labels in sorted(Counter(counts.values()).items(), reverse=True):
        floor, total = shared, total + labels
        if total >= CANDIDATES:
            break
    kept = [number for number, shared in counts.items() if shared >= floor]
    kept.sort(key=counts.__getitem__, reverse=True)
    return kept[:CANDIDATES]


def _fuzzy(index: LabelIndex, text: str, exclude: set[str]) -> list[tuple[float, _Owner]]:
    """The best fuzzy label of each skill, best first; at equal scores skills come before
    groups, preferred labels before alternative ones, then ids in order."""
    numbers = _candidates(index, text)
    best: dict[str, tuple[tuple[float, bool, str], _Owner]] = {}
    for number, score in zip(numbers, _scores(index, text, numbers), strict=True):
        if score < MIN_SCORE:
            continue
        key = index.keys[number]
        for owner in index.exact[key]:
            # A skill's best label wins; at equal scores its preferred one, then the first key.
            mine = (-score, not owner.is_preferred, key)
            held = best.get(owner.skill_id)
            if owner.skill_id not in exclude and (held is None or mine < held[0]):
                best[owner.skill_id] = (mine, owner)
    ranked = sorted(best.values(), key=lambda held: (held[0][0], *_rank(index, held[1])))
    return [(-order[0], owner) for order, owner in ranked]


def _rank(index: LabelIndex, owner: _Owner) -> tuple[bool, bool, str]:
    return (owner.skill_id in index.groups, not owner.is_preferred, owner.skill_id)


def _match(index: LabelIndex, owner: _Owner, confidence: float) -> Match:
    return Match(owner.skill_id, index.preferred[owner.skill_id], owner.matched_label, confidence)


def normalize(index: LabelIndex, text: str, limit: int = 5) -> list[Match]:
    """Candidate skills for `text`, best first: every owner of the exact label (confidence 1.0;
    all of them, even beyond `limit`, since choosing one would be a guess), then fuzzy matches
    (confidence below 1.0), one per skill, up to `limit` in all."""
    key = normalize_label(text)
    if not key or limit <= 0:
        return []
    matches = [_match(index, owner, 1.0) for owner in index.exact.get(key, ())]
    if len(matches) < limit:
        taken = {match.skill_id for match in matches}
        matches += [
            _match(index, owner, _confidence(score))
            for score, owner in _fuzzy(index, key, taken)[: limit - len(matches)]
        ]
    return matches


def normalize_many(index: LabelIndex, texts: Sequence[str], limit: int = 5) -> list[list[Match]]:
    """`normalize` for each of up to MAX_BATCH texts, in order; a repeated text is looked up
    once."""
    if len(texts) > MAX_BATCH:
        raise ValueError(f"at most {MAX_BATCH} texts per batch, got {len(texts)}")
    found: dict[str, list[Match]] = {}
    for text in texts:
        if text not in found:
            found[text] = normalize(index, text, limit)
    return [found[text] for text in texts]


def search(index: LabelIndex, q: str, limit: int = 20) -> list[Match]:
    """Ranked label search, one result per skill: exact labels, then labels starting with `q`,
    then labels with a word starting with each word of `q`, then fuzzy matches."""
    key = normalize_label(q)
    if not key or limit <= 0:
        return []
    results = [_match(index, owner, 1.0) for owner in index.exact.get(key, ())][:limit]
    taken = {match.skill_id for match in results}
    prefixed = _prefixed(index, key)[: 2 * limit]
    for number, score in zip(prefixed, _scores(index, key, prefixed), strict=True):
        if len(results) >= limit:
            return results
        for owner in index.exact[index.keys[number]]:
            if owner.skill_id not in taken and len(results) < limit:
                taken.add(owner.skill_id)
                results.append(_match(index, owner, _confidence(score)))
    for score, owner in _fuzzy(index, key, taken)[: limit - len(results)]:
        results.append(_match(index, owner, _confidence(score)))
    return results


def _prefixed(index: LabelIndex, key: str) -> list[int]:
    """Labels starting with `key`, then labels with a word starting with each word of `key`.
    Within each, labels holding every word of `key` whole come first, then shorter labels, as
    they say more about the query."""
    whole = []
    for number in range(bisect_left(index.keys, key), len(index.keys)):
        if not index.keys[number].startswith(key):
            break
        whole.append(number)
    words = set(key.split(" "))
    shared: set[int] = set()
    for rank, word in enumerate(sorted(words)):
        lists = []
        for position in range(bisect_left(index.vocabulary, word), len(index.vocabulary)):
            if not index.vocabulary[position].startswith(word):
                break
            lists.append(index.words[index.vocabulary[position]])
        # A word as short as "ma" starts a good part of the taxonomy and says little: such
        # queries get the label prefixes and fuzzy matches only.
        if sum(map(len, lists)) > POSTINGS_BUDGET:
            shared = set()
            break
        numbers = set(chain.from_iterable(lists))
        shared = numbers if rank == 0 else shared & numbers
        if not shared:
            break
    shared -= set(whole)

    def order(number: int) -> tuple[bool, int, str]:
        found = index.keys[number]
        return not words.issubset(found.split(" ")), len(found), found

    return sorted(whole, key=order) + sorted(shared, key=order)
