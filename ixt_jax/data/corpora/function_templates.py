"""Templates for small Python functions, each with places where a realistic bug can be planted.

A body is Python (4-space indents, relative to the def) with `$p0`, `$p1`... for the parameter
names and `$k` for a drawn constant (`string.Template` syntax), and mutation slots
`{{correct|buggy|kind}}` where kind is one of BUG_KINDS. `inputs(rng, k)` draws the argument
tuples the unit tests call the function with; expected values come from running the correct body.
"""
from __future__ import annotations

import dataclasses
import random
import string
from collections.abc import Callable

BUG_KINDS = ("off_by_one", "wrong_operator", "wrong_return")

_WORDS = ("banana", "queue", "rhythm", "Aeiou", "level", "Racecar", "sky", "onomatopoeia", "python",
          "Mississippi", "abracadabra", "noon", "education", "strength", "a", "xyz", "Anna", "bookkeeper")


@dataclasses.dataclass(frozen=True)
class FunctionTemplate:
  names: tuple[str, ...]
  params: tuple[tuple[str, ...], ...]  # choices for each parameter's name
  doc: str
  body: str
  inputs: Callable[[random.Random, int], list[tuple]]
  constant: tuple[int, int] = (2, 9)  # range of $k


def _ints(rng: random.Random, lo: int = -9, hi: int = 20, size: tuple[int, int] = (1, 8)) -> list[int]:
  return [rng.randint(lo, hi) for _ in range(rng.randint(*size))]


def _int_lists(lo: int = -9, hi: int = 20, size: tuple[int, int] = (1, 8), count: int = 5):
  return lambda rng, k: [(_ints(rng, lo, hi, size),) for _ in range(count)]


def _words(rng: random.Random, count: int = 5) -> list[tuple]:
  return [(w,) for w in rng.sample(_WORDS, count)]


def _sentence(rng: random.Random) -> str:
  return " ".join(rng.choice(_WORDS).lower() for _ in range(rng.randint(2, 6)))


def _sentences(rng: random.Random, k: int) -> list[tuple]:
  return [(_sentence(rng),) for _ in range(5)]


TEMPLATES: dict[str, FunctionTemplate] = {
    "count_vowels": FunctionTemplate(
        ("count_vowels", "vowel_count", "num_vowels"), (("text", "word", "s"),),
        "Return how many vowels (a, e, i, o, u) appear in $p0, ignoring case.",
        "count = 0\nfor ch in $p0.lower():\n    if ch in \"aeiou\":\n        count {{+=|-=|wrong_operator}} 1\n"
        "return {{count|len($p0)|wrong_return}}",
        lambda rng, k: _words(rng) + [("",)]),
    "sum_of_squares": FunctionTemplate(
        ("sum_of_squares", "square_sum", "total_of_squares"), (("numbers", "values", "xs"),),
        "Return the sum of the squares of the integers in $p0.",
        "total = 0\nfor x in $p0:\n    total += x {{*|+|wrong_operator}} x\nreturn {{total|x|wrong_return}}",
        _int_lists(size=(2, 8))),
    "largest": FunctionTemplate(
        ("largest", "find_max", "max_value"), (("numbers", "values", "items"),),
        "Return the largest number in the non-empty list $p0.",
        "best = $p0[0]\nfor x in $p0[1:]:\n    if x {{>|<|wrong_operator}} best:\n        best = x\n"
        "return {{best|x|wrong_return}}",
        _int_lists(size=(3, 8))),
    "factorial": FunctionTemplate(
        ("factorial", "fact", "product_up_to"), (("n", "k", "count"),),
        "Return $p0! (the product 1 * 2 * ... * $p0), with 0! == 1.",
        "result = 1\nfor i in range(2, {{$p0 + 1|$p0|off_by_one}}):\n    result *= i\n"
        "return {{result|i|wrong_return}}",
        lambda rng, k: [(0,), (1,)] + [(rng.randint(3, 12),) for _ in range(3)]),
    "triangle_number": FunctionTemplate(
        ("triangle_number", "sum_to", "triangular"), (("n", "limit", "top"),),
        "Return 1 + 2 + ... + $p0 (0 when $p0 is 0).",
        "total = 0\nfor i in range(1, {{$p0 + 1|$p0|off_by_one}}):\n    total {{+=|*=|wrong_operator}} i\nreturn total",
        lambda rng, k: [(0,)] + [(rng.randint(2, 40),) for _ in range(4)]),
    "fibonacci": FunctionTemplate(
        ("fibonacci", "fib", "nth_fibonacci"), (("n", "index", "k"),),
        "Return the $p0-th Fibonacci number, where fib(0) == 0 and fib(1) == 1.",
        "a, b = 0, 1\nfor _ in range({{$p0|$p0 - 1|off_by_one}}):\n    a, b = b, a {{+|*|wrong_operator}} b\n"
        "return {{a|b|wrong_return}}",
        lambda rng, k: [(rng.randint(2, 25),) for _ in range(4)] + [(1,)]),
    "is_palindrome": FunctionTemplate(
        ("is_palindrome", "reads_same_backwards", "palindromic"), (("text", "phrase", "s"),),
        "Return True if $p0 reads the same backwards, ignoring case and non-alphanumeric characters.",
        "cleaned = \"\".join(ch.lower() for ch in $p0 if ch.isalnum())\n"
        "return cleaned {{==|!=|wrong_operator}} cleaned[::-1]",
        lambda rng, k: _words(rng, 4) + [("Never odd or even",)]),
    "count_above": FunctionTemplate(
        ("count_above", "count_greater", "how_many_above"), (("numbers", "values", "scores"),),
        "Return how many numbers in $p0 are strictly greater than $k.",
        "count = 0\nfor x in $p0:\n    if x {{>|>=|off_by_one}} $k:\n        count += 1\n"
        "return {{count|x|wrong_return}}",
        lambda rng, k: [(_ints(rng, 0, 15, (3, 9)) + [k],) for _ in range(5)]),
    "scale": FunctionTemplate(
        ("scale", "multiply_all", "scaled"), (("numbers", "values", "xs"),),
        "Return a new list with every number in $p0 multiplied by $k.",
        "return [x {{*|+|wrong_operator}} $k for x in $p0]",
        _int_lists()),
    "running_total": FunctionTemplate(
        ("running_total", "prefix_sums", "cumulative_sum"), (("numbers", "values", "amounts"),),
        "Return the running totals of $p0: element i is the sum of the first i + 1 numbers.",
        "totals = []\ntotal = 0\nfor x in $p0:\n    total {{+=|-=|wrong_operator}} x\n    totals.append(total)\n"
        "return {{totals|total|wrong_return}}",
        _int_lists(size=(2, 8))),
    "digit_sum": FunctionTemplate(
        ("digit_sum", "sum_digits", "add_digits"), (("n", "number", "value"),),
        "Return the sum of the decimal digits of the non-negative integer $p0.",
        "total = 0\nwhile $p0 > 0:\n    total += $p0 {{%|//|wrong_operator}} 10\n    $p0 //= 10\n"
        "return {{total|$p0|wrong_return}}",
        lambda rng, k: [(0,)] + [(rng.randint(10, 99999),) for _ in range(4)]),
    "gcd": FunctionTemplate(
        ("gcd", "greatest_common_divisor", "highest_common_factor"), (("a", "x", "m"), ("b", "y", "n")),
        "Return the greatest common divisor of the positive integers $p0 and $p1.",
        "while $p1:\n    $p0, $p1 = $p1, $p0 % $p1\nreturn {{$p0|$p1|wrong_return}}",
        lambda rng, k: [(rng.randint(1, 30) * g, rng.randint(1, 30) * g) for g in rng.sample(range(1, 12), 5)]),
    "chunk": FunctionTemplate(
        ("chunk", "split_into_groups", "batched"), (("items", "values", "seq"),),
        "Split the list $p0 into consecutive lists of $k items (the last one may be shorter).",
        "return [$p0[i:{{i + $k|i + $k - 1|off_by_one}}] for i in range(0, len($p0), $k)]",
        lambda rng, k: [(_ints(rng, 0, 9, (k + 1, 3 * k)),) for _ in range(4)], (2, 4)),
    "capitalize_words": FunctionTemplate(
        ("capitalize_words", "title_words", "capitalise_each"), (("sentence", "text", "line"),),
        "Return $p0 with the first letter of every space-separated word capitalised.",
        "words = [w.capitalize() for w in $p0.split()]\nreturn {{\" \".join(words)|$p0|wrong_return}}",
        _sentences),
    "unique_in_order": FunctionTemplate(
        ("unique_in_order", "dedupe", "remove_duplicates"), (("items", "values", "seq"),),
        "Return the items of $p0 without repeats, keeping the first occurrence of each in order.",
        "seen = set()\nresult = []\nfor x in $p0:\n    if x {{not in|in|wrong_operator}} seen:\n"
        "        seen.add(x)\n        result.append(x)\nreturn {{result|seen|wrong_return}}",
        _int_lists(0, 6, (3, 10))),
    "count_char": FunctionTemplate(
        ("count_char", "occurrences", "char_count"), (("text", "s", "word"), ("ch", "letter", "target")),
        "Return how many times the character $p1 occurs in $p0.",
        "return sum(1 for c in $p0 if c {{==|!=|wrong_operator}} $p1)",
        lambda rng, k: [(w, rng.choice(w)) for (w,) in _words(rng, 5) if w]),
    "second_largest": FunctionTemplate(
        ("second_largest", "runner_up", "second_max"), (("numbers", "values", "scores"),),
        "Return the second largest distinct value in $p0 (which has at least two distinct values).",
        "distinct = sorted(set($p0))\nreturn distinct[{{-2|-1|off_by_one}}]",
        lambda rng, k: [(_ints(rng, 0, 30, (3, 8)) + [31, 32],) for _ in range(4)]),
    "mean_floor": FunctionTemplate(
        ("mean_floor", "average_down", "floor_mean"), (("numbers", "values", "marks"),),
        "Return the mean of the non-empty list $p0 rounded down to an integer.",
        "return sum($p0) {{//|%|wrong_operator}} len($p0)",
        _int_lists(0, 50, (2, 7))),
    "is_prime": FunctionTemplate(
        ("is_prime", "prime", "check_prime"), (("n", "number", "value"),),
        "Return True if $p0 is a prime number.",
        "if $p0 < 2:\n    return False\nfor d in range(2, {{int($p0 ** 0.5) + 1|int($p0 ** 0.5)|off_by_one}}):\n"
        "    if $p0 % d == 0:\n        return {{False|True|wrong_return}}\nreturn True",
        lambda rng, k: [(rng.choice([4, 9, 25, 49, 121]),), (rng.choice([7, 13, 29, 97]),), (1,),
                        (rng.choice([15, 21, 35]),)]),
    "clamp": FunctionTemplate(
        ("clamp", "bound", "limit_to_range"), (("value", "x", "n"),),
        "Return $p0 limited to the range 0..$k (values below 0 become 0, values above $k become $k).",
        "if $p0 {{<|>|wrong_operator}} 0:\n    return 0\nif $p0 > $k:\n    return {{$k|$p0|wrong_return}}\nreturn $p0",
        lambda rng, k: [(-3,), (k + 5,), (k // 2,), (k,), (0,)], (5, 30)),
    "count_long_words": FunctionTemplate(
        ("count_long_words", "long_word_count", "words_longer_than"), (("text", "sentence", "line"),),
        "Return how many space-separated words in $p0 have more than $k letters.",
        "return len([w for w in $p0.split() if len(w) {{>|>=|off_by_one}} $k])",
        lambda rng, k: _sentences(rng, k) + [("level noon sky education",)], (3, 6)),
    "evens": FunctionTemplate(
        ("evens", "even_numbers", "keep_even"), (("numbers", "values", "xs"),),
        "Return the even numbers of $p0 in their original order.",
        "return [x for x in $p0 if x % 2 {{==|!=|wrong_operator}} 0]",
        _int_lists(size=(2, 8))),
    "last_items": FunctionTemplate(
        ("last_items", "tail", "take_last"), (("items", "values", "seq"),),
        "Return the last $k items of $p0 (which has at least $k items).",
        "return $p0[{{-$k|-$k + 1|off_by_one}}:]",
        lambda rng, k: [(_ints(rng, 0, 9, (k + 1, k + 6)),) for _ in range(4)], (2, 5)),
    "index_of": FunctionTemplate(
        ("index_of", "find_index", "position_of"), (("items", "values", "seq"), ("target", "x", "wanted")),
        "Return the index of the first occurrence of $p1 in $p0, or -1 if it is absent.",
        "for i in range(len($p0)):\n    if $p0[i] == $p1:\n        return {{i|i + 1|off_by_one}}\n"
        "return {{-1|0|wrong_return}}",
        lambda rng, k: [(xs, rng.choice(xs)) for xs in (_ints(rng, 0, 9, (2, 8)) for _ in range(4))] + [([1, 2], 5)]),
    "caesar": FunctionTemplate(
        ("caesar", "shift_letters", "rotate_text"), (("text", "message", "s"),),
        "Shift every lowercase letter of $p0 $k places forward in the alphabet, wrapping from z to a.",
        "result = []\nfor ch in $p0:\n    if \"a\" <= ch <= \"z\":\n"
        "        result.append(chr((ord(ch) - 97 {{+|-|wrong_operator}} $k) % 26 + 97))\n"
        "    else:\n        result.append(ch)\nreturn {{\"\".join(result)|$p0|wrong_return}}",
        _sentences, (1, 25)),
    "run_length": FunctionTemplate(
        ("run_length", "encode_runs", "compress"), (("text", "s", "data"),),
        "Return the run-length encoding of $p0, e.g. \"aaab\" -> \"a3b1\".",
        "if not $p0:\n    return \"\"\nout = []\ncurrent, count = $p0[0], 1\nfor ch in $p0[1:]:\n"
        "    if ch == current:\n        count += 1\n    else:\n        out.append(current + str(count))\n"
        "        current, count = ch, {{1|0|off_by_one}}\nout.append(current + str(count))\n"
        "return {{\"\".join(out)|\"\".join(out[:-1])|wrong_return}}",
        lambda rng, k: [("",)] + [("".join(rng.choice("ab") * rng.randint(1, 4) for _ in range(4)),)
                                  for _ in range(4)]),
    "product": FunctionTemplate(
        ("product", "multiply_together", "prod"), (("numbers", "values", "factors"),),
        "Return the product of the numbers in $p0 (1 for an empty list).",
        "result = 1\nfor x in $p0:\n    result {{*=|+=|wrong_operator}} x\nreturn {{result|x|wrong_return}}",
        lambda rng, k: [([],)] + [(_ints(rng, 2, 9, (2, 5)),) for _ in range(4)]),
    "count_positive": FunctionTemplate(
        ("count_positive", "positives", "num_positive"), (("numbers", "values", "xs"),),
        "Return how many numbers in $p0 are strictly positive.",
        "return len([x for x in $p0 if x {{>|>=|off_by_one}} 0])",
        lambda rng, k: [(_ints(rng, -5, 5, (2, 8)) + [0],) for _ in range(5)]),
    "reverse_words": FunctionTemplate(
        ("reverse_words", "words_backwards", "flip_words"), (("sentence", "text", "line"),),
        "Return $p0 with the order of its space-separated words reversed.",
        "words = $p0.split()\nreturn \" \".join({{reversed(words)|words|wrong_return}})",
        lambda rng, k: _sentences(rng, k) + [("one two three",)]),
    "sum_range": FunctionTemplate(
        ("sum_range", "sum_between", "range_total"), (("low", "start", "a"), ("high", "stop", "b")),
        "Return the sum of the integers from $p0 to $p1 inclusive (0 if $p0 > $p1).",
        "return sum(range($p0, {{$p1 + 1|$p1|off_by_one}}))",
        lambda rng, k: [(a, a + rng.randint(0, 20)) for a in (rng.randint(-5, 10) for _ in range(4))] + [(5, 1)]),
    "flatten": FunctionTemplate(
        ("flatten", "concat_lists", "join_lists"), (("lists", "groups", "rows"),),
        "Return one list holding the items of every list in $p0, in order.",
        "result = []\nfor sub in $p0:\n    result.{{extend|append|wrong_operator}}(sub)\nreturn result",
        lambda rng, k: [([_ints(rng, 0, 9, (0, 3)) for _ in range(rng.randint(1, 4))],) for _ in range(4)]),
    "has_duplicates": FunctionTemplate(
        ("has_duplicates", "contains_repeat", "any_duplicate"), (("items", "values", "seq"),),
        "Return True if some value occurs more than once in $p0.",
        "return len(set($p0)) {{!=|==|wrong_operator}} len($p0)",
        lambda rng, k: [([1, 2, 3],), ([4, 4],)] + [(_ints(rng, 0, 12, (2, 6)),) for _ in range(3)]),
    "spread": FunctionTemplate(
        ("spread", "value_range", "max_minus_min"), (("numbers", "values", "readings"),),
        "Return the difference between the largest and the smallest number in the non-empty list $p0.",
        "return max($p0) {{-|+|wrong_operator}} min($p0)",
        _int_lists(size=(2, 7))),
}


def substitute(body: str, names: dict[str, str]) -> str:
  return string.Template(body).substitute(names)
