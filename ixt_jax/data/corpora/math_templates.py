"""Scenario templates for multi-step arithmetic word problems.

A template draws numbers that keep every intermediate result a non-negative integer (divisions are
exact) and returns a `Problem`: the statement, its named quantities, and the solution plan. Each plan
step combines two earlier values (a quantity name or `s<k>`, the result of step k) with one operator;
its `says` sentence shows the computation where `{eq}` stands.
"""
from __future__ import annotations

import dataclasses
import random
from collections.abc import Callable


@dataclasses.dataclass(frozen=True)
class Step:
  op: str  # one of OPS
  left: str
  right: str
  says: str


@dataclasses.dataclass(frozen=True)
class Problem:
  statement: str
  quantities: dict[str, int]
  steps: tuple[Step, ...]


@dataclasses.dataclass(frozen=True)
class Person:
  name: str
  subject: str  # "she" / "he" / "they"
  possessive: str
  verb_s: str  # "s" for she/he ("buys"), "" for they ("buy")


_PEOPLE = [
    Person(name, *pronouns) for name, pronouns in [
        ("Maya", ("she", "her", "s")), ("Liam", ("he", "his", "s")), ("Aiko", ("she", "her", "s")),
        ("Omar", ("he", "his", "s")), ("Sofia", ("she", "her", "s")), ("Kwame", ("he", "his", "s")),
        ("Priya", ("she", "her", "s")), ("Mateo", ("he", "his", "s")), ("Alex", ("they", "their", "")),
        ("Ingrid", ("she", "her", "s")), ("Tariq", ("he", "his", "s")), ("Rin", ("they", "their", "")),
        ("Chloe", ("she", "her", "s")), ("Diego", ("he", "his", "s")), ("Noor", ("she", "her", "s")),
        ("Felix", ("he", "his", "s")), ("Zanele", ("she", "her", "s")), ("Sam", ("they", "their", "")),
        ("Hana", ("she", "her", "s")), ("Lucas", ("he", "his", "s")), ("Amara", ("she", "her", "s")),
        ("Wei", ("he", "his", "s")), ("Elena", ("she", "her", "s")), ("Jonah", ("he", "his", "s")),
    ]
]
_FRIENDS = ["a neighbour", "a cousin", "a classmate", "the school", "a friend", "the library"]


def _exact_split(total: int, divisor: int, rng: random.Random) -> int:
  """A removal r in [1, total) with (total - r) divisible by divisor (needs total > divisor)."""
  return total - divisor * rng.randint(1, (total - 1) // divisor)


def _sharing(rng: random.Random, who: Person) -> Problem:
  item = rng.choice(["stickers", "marbles", "pencils", "trading cards", "beads", "stamps"])
  group, member = rng.choice([("friends", "friend"), ("bags", "bag"), ("teams", "team"), ("jars", "jar")])
  packs, per, groups = rng.randint(3, 9), rng.randint(6, 15), rng.randint(2, 6)
  given = _exact_split(packs * per, groups, rng)
  friend = rng.choice(_FRIENDS)
  return Problem(
      f"{who.name} buy{who.verb_s} {packs} packs of {item} with {per} {item} in each pack. "
      f"{who.subject.capitalize()} give{who.verb_s} {given} {item} to {friend} and share{who.verb_s} the rest "
      f"equally among {groups} {group}. How many {item} does each {member} get?",
      dict(packs=packs, per_pack=per, given=given, groups=groups),
      (Step("x", "packs", "per_pack", f"{who.name} starts with {{eq}} {item}."),
       Step("-", "s1", "given", f"After giving some to {friend}, {{eq}} {item} are left."),
       Step("/", "s2", "groups", f"Each {member} gets {{eq}} {item}.")))


def _savings(rng: random.Random, who: Person) -> Problem:
  wage, hours, weeks = rng.randint(8, 25), rng.randint(4, 20), rng.randint(2, 6)
  thing = rng.choice(["a bicycle", "a guitar", "concert tickets", "a new phone", "books", "a tent"])
  spent = rng.randint(10, wage * hours * weeks - 1)
  return Problem(
      f"{who.name} earn{who.verb_s} {wage} dollars per hour and work{who.verb_s} {hours} hours a week for "
      f"{weeks} weeks. Then {who.subject} spend{who.verb_s} {spent} dollars on {thing}. "
      f"How many dollars does {who.name} have left?",
      dict(wage=wage, hours=hours, weeks=weeks, spent=spent),
      (Step("x", "wage", "hours", "Each week brings {eq} dollars."),
       Step("x", "s1", "weeks", f"Over {weeks} weeks that is {{eq}} dollars."),
       Step("-", "s2", "spent", f"After buying {thing}, {{eq}} dollars are left.")))


def _garden(rng: random.Random, who: Person) -> Problem:
  crop, produce = rng.choice([("tomato plants", "tomatoes"), ("pepper plants", "peppers"),
                              ("strawberry plants", "strawberries"), ("bean plants", "pods")])
  rows, per_row, extra, each = rng.randint(3, 12), rng.randint(4, 15), rng.randint(2, 20), rng.randint(3, 12)
  return Problem(
      f"{who.name}'s garden has {rows} rows of {crop} with {per_row} plants in each row. "
      f"{who.subject.capitalize()} plant{who.verb_s} {extra} more. Each plant gives {each} {produce}. "
      f"How many {produce} does the garden give?",
      dict(rows=rows, per_row=per_row, extra=extra, each=each),
      (Step("x", "rows", "per_row", "The rows hold {eq} plants."),
       Step("+", "s1", "extra", "With the new ones there are {eq} plants."),
       Step("x", "s2", "each", f"Together they give {{eq}} {produce}.")))


def _bakery(rng: random.Random, who: Person) -> Problem:
  pastry = rng.choice(["muffins", "croissants", "cookies", "bagels", "scones"])
  batches, per_batch, box = rng.randint(3, 10), rng.randint(8, 24), rng.randint(3, 8)
  sold = _exact_split(batches * per_batch, box, rng)
  return Problem(
      f"A bakery run by {who.name} makes {batches} batches of {per_batch} {pastry}. It sells {sold} "
      f"{pastry} in the morning and packs the rest into boxes of {box}. How many boxes does it fill?",
      dict(batches=batches, per_batch=per_batch, sold=sold, box=box),
      (Step("x", "batches", "per_batch", f"The bakery makes {{eq}} {pastry}."),
       Step("-", "s1", "sold", f"After the morning sales, {{eq}} {pastry} remain."),
       Step("/", "s2", "box", "They fill {eq} boxes.")))


def _trip(rng: random.Random, who: Person) -> Problem:
  vehicle = rng.choice(["train", "bus", "car", "ferry", "truck"])
  speed1, hours1, speed2, hours2 = rng.randint(30, 120), rng.randint(2, 6), rng.randint(20, 110), rng.randint(1, 5)
  return Problem(
      f"{who.name}'s {vehicle} travels at {speed1} km per hour for {hours1} hours, then at {speed2} km "
      f"per hour for {hours2} hours. How many kilometres does it travel in all?",
      dict(speed1=speed1, hours1=hours1, speed2=speed2, hours2=hours2),
      (Step("x", "speed1", "hours1", "The first part covers {eq} km."),
       Step("x", "speed2", "hours2", "The second part covers {eq} km."),
       Step("+", "s1", "s2", "In all the trip is {eq} km.")))


def _library(rng: random.Random, who: Person) -> Problem:
  shelves, per, returned = rng.randint(4, 15), rng.randint(20, 60), rng.randint(3, 40)
  borrowed = rng.randint(5, shelves * per - 1)
  return Problem(
      f"The library where {who.name} volunteers has {shelves} shelves with {per} books on each. "
      f"On Monday {borrowed} books are borrowed and {returned} books are returned. "
      f"How many books are on the shelves at the end of the day?",
      dict(shelves=shelves, per_shelf=per, borrowed=borrowed, returned=returned),
      (Step("x", "shelves", "per_shelf", "The shelves start with {eq} books."),
       Step("-", "s1", "borrowed", "After the loans, {eq} books are left."),
       Step("+", "s2", "returned", "With the returns there are {eq} books.")))


def _classroom(rng: random.Random, who: Person) -> Problem:
  supply = rng.choice(["notebooks", "glue sticks", "rulers", "erasers", "folders"])
  classes, students, each = rng.randint(2, 6), rng.randint(15, 32), rng.randint(2, 5)
  have = rng.randint(5, classes * students * each - 1)
  return Problem(
      f"{who.name} teaches {classes} classes of {students} students. Each student needs {each} {supply}, "
      f"and {who.subject} already ha{'s' if who.verb_s else 've'} {have}. "
      f"How many more {supply} must {who.name} buy?",
      dict(classes=classes, students=students, each=each, have=have),
      (Step("x", "classes", "students", "There are {eq} students."),
       Step("x", "s1", "each", f"They need {{eq}} {supply}."),
       Step("-", "s2", "have", f"{who.name} must buy {{eq}} more {supply}.")))


def _fundraiser(rng: random.Random, who: Person) -> Problem:
  charities = rng.randint(2, 6)
  people, amount = rng.randint(10, 60), rng.randint(5, 40)
  bonus = charities * rng.randint(5, 60) - (people * amount) % charities  # makes the total divisible
  return Problem(
      f"At a fundraiser organised by {who.name}, {people} people each give {amount} dollars. "
      f"A local shop adds {bonus} dollars. The money is split equally among {charities} charities. "
      f"How many dollars does each charity receive?",
      dict(people=people, amount=amount, bonus=bonus, charities=charities),
      (Step("x", "people", "amount", "The guests give {eq} dollars."),
       Step("+", "s1", "bonus", "With the shop's gift the total is {eq} dollars."),
       Step("/", "s2", "charities", "Each charity receives {eq} dollars.")))


def _eggs(rng: random.Random, who: Person) -> Problem:
  per_day, days, carton, price = rng.randint(6, 30), rng.randint(3, 14), rng.choice([6, 10, 12]), rng.randint(2, 6)
  broken = _exact_split(per_day * days, carton, rng)
  return Problem(
      f"{who.name}'s hens lay {per_day} eggs a day for {days} days. {broken} eggs break, and "
      f"{who.subject} sell{who.verb_s} the rest in cartons of {carton} for {price} dollars a carton. "
      f"How many dollars does {who.name} make?",
      dict(per_day=per_day, days=days, broken=broken, carton=carton, price=price),
      (Step("x", "per_day", "days", "The hens lay {eq} eggs."),
       Step("-", "s1", "broken", "Without the broken ones, {eq} eggs are left."),
       Step("/", "s2", "carton", "They fill {eq} cartons."),
       Step("x", "s3", "price", f"{who.name} makes {{eq}} dollars.")))


def _recipe(rng: random.Random, who: Person) -> Problem:
  ingredient = rng.choice(["flour", "sugar", "rice", "oats", "butter"])
  servings, per_serving, target = rng.randint(2, 8), rng.randint(15, 90), rng.randint(3, 20)
  grams = servings * per_serving
  return Problem(
      f"A recipe uses {grams} grams of {ingredient} for {servings} servings. {who.name} wants to make "
      f"{target} servings. How many grams of {ingredient} does {who.subject} need?",
      dict(grams=grams, servings=servings, target=target),
      (Step("/", "grams", "servings", f"One serving needs {{eq}} grams of {ingredient}."),
       Step("x", "s1", "target", f"{target} servings need {{eq}} grams.")))


def _painting(rng: random.Random, who: Person) -> Problem:
  width, height, walls, cover = rng.randint(3, 9), rng.randint(2, 4), rng.randint(2, 6), rng.choice([2, 3, 4, 6])
  while (width * height * walls) % cover:
    walls += 1
  return Problem(
      f"{who.name} paints {walls} walls that are each {width} m wide and {height} m high. One can of "
      f"paint covers {cover} square metres. How many cans does {who.subject} need?",
      dict(width=width, height=height, walls=walls, cover=cover),
      (Step("x", "width", "height", "One wall is {eq} square metres."),
       Step("x", "s1", "walls", "All the walls are {eq} square metres."),
       Step("/", "s2", "cover", "That takes {eq} cans.")))


def _tickets(rng: random.Random, who: Person) -> Problem:
  adult, child, adults, children = rng.randint(12, 40), rng.randint(5, 15), rng.randint(1, 4), rng.randint(1, 5)
  paid = (adult * adults + child * children) // 50 * 50 + 50 * rng.randint(1, 3)
  return Problem(
      f"At the {rng.choice(['zoo', 'museum', 'aquarium', 'cinema'])}, adult tickets cost {adult} dollars and "
      f"child tickets cost {child} dollars. {who.name} buy{who.verb_s} {adults} adult and {children} child "
      f"tickets and pay{who.verb_s} with {paid} dollars. How much change does {who.subject} get?",
      dict(adult=adult, child=child, adults=adults, children=children, paid=paid),
      (Step("x", "adult", "adults", "The adult tickets cost {eq} dollars."),
       Step("x", "child", "children", "The child tickets cost {eq} dollars."),
       Step("+", "s1", "s2", "Together they cost {eq} dollars."),
       Step("-", "paid", "s3", "The change is {eq} dollars.")))


TEMPLATES: dict[str, Callable[[random.Random, Person], Problem]] = {
    "sharing": _sharing, "savings": _savings, "garden": _garden, "bakery": _bakery, "trip": _trip,
    "library": _library, "classroom": _classroom, "fundraiser": _fundraiser, "eggs": _eggs,
    "recipe": _recipe, "painting": _painting, "tickets": _tickets,
}


def draw_problem(rng: random.Random) -> tuple[str, Problem]:
  """A random template's name and a problem drawn from it."""
  name = rng.choice(sorted(TEMPLATES))
  return name, TEMPLATES[name](rng, rng.choice(_PEOPLE))
