"""The signature bench's cross-validation: folds that keep a mailbox together, and a
block judge whose weights are fitted on the training messages alone."""

from __future__ import annotations

from dataclasses import fields

from bench.signature_cv import Blocks, grouped_folds, split
from bench.signature_judge import FittedWeightsExtractor
from bench.signatures import Labelled, Person
from connectors.records import Address
from matcher.body.block_evidence import Weights

PEOPLE = [
    ("Jane Doe", "jane.doe@acme-energy.com", "Head of Sales | Acme Energy Inc.", "(713) 555-0142"),
    ("Raj Patel", "rpatel@northwind.com", "Senior Counsel, Northwind Corp.", "+1 212 555 0199"),
    ("Mia Wong", "mia@contoso.com", "VP Operations | Contoso Ltd.", "(415) 555-0110"),
    ("Tom Berg", "tom.berg@fabrikam.com", "Account Manager, Fabrikam Inc.", "312-555-0175"),
]


def signed(name: str, email: str, title: str, phone: str) -> tuple[str, tuple[int, int]]:
    """A short reply signed below "-- ", and the signature's span."""
    body = "Hi,\n\nthe numbers for Q3 are attached; call me if anything is unclear.\n\n-- \n"
    block = f"{name}\n{title}\nOffice: {phone}\n{email}"
    return f"{body}{block}\n", (len(body), len(body) + len(block))


def labelled(name: str, email: str, title: str, phone: str) -> Labelled:
    text, span = signed(name, email, title, phone)
    person = Person({email}, {}, [span])
    return Labelled(text, Address.of(email, name), {email}, [person], [])


def test_a_mailbox_stays_in_one_fold() -> None:
    names = ["beck-s_1.ann", "beck-s_2.ann", "lay-k_1.ann", "skilling-j_1.ann", "beck-s_3.ann"]
    fold_of = grouped_folds(names, [1] * len(names), 2)
    assert fold_of == [0, 0, 1, 1, 0]  # beck-s (3) alone; the two single mailboxes together
    train, test = split(names, fold_of, 1)
    assert (train, test) == (["beck-s_1.ann", "beck-s_2.ann", "beck-s_3.ann"], names[2:4])


def test_fitted_weights_start_from_nothing_and_find_the_training_blocks() -> None:
    unfitted = FittedWeightsExtractor()
    assert {getattr(unfitted.weights, f.name) for f in fields(Weights)} == {0.0}
    text, _ = signed(*PEOPLE[0])
    assert [i.block for i in unfitted.extract(text, Address.of(PEOPLE[0][1]), "US")] == [None]

    extractor = FittedWeightsExtractor()
    plain = "Thanks, see you on Monday.\n\nBest\nsent from my phone\n"
    extractor.fit([labelled(*p) for p in PEOPLE[:3]], [Blocks("asf-1", plain, [])])
    # Held out: a fourth person's block is found where it is labelled, and the
    # unsigned note gives none.
    text, span = signed(*PEOPLE[3])
    found = [i.block for i in extractor.extract(text, Address.of(PEOPLE[3][1]), "US") if i.block]
    assert [(b.start, b.end) for b in found] == [span]
    assert [i.block for i in extractor.extract(plain, None, "US") if i.block] == []
    assert extractor.weights != unfitted.weights
