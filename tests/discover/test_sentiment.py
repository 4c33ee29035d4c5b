import pytest

from journeykit.discover.sentiment import moment_of, sentiment


@pytest.mark.parametrize(
    ("text", "language", "moment"),
    [
        ("It didn't work", "en", "breakdown"),
        ("The Slack integration never worked for us", "en", "breakdown"),
        ("We finally launched!", "en", "celebrate"),
        ("finally got my first client", "en", "celebrate"),
        ("I work at a bank", "en", "neutral"),
        ("not bad at all", "en", "celebrate"),
        ("Great tool but the setup was a nightmare", "en", "breakdown"),
        ("It was hard at first, but now it works great", "en", "celebrate"),
        ("I gave up after two weeks", "en", "breakdown"),
        ("No funcionó", "es", "breakdown"),
        ("no ha funcionado nada", "es", "breakdown"),
        ("Por fin lancé mi curso", "es", "celebrate"),
        ("Estoy muy contenta con el grupo", "es", "celebrate"),
        ("Me gusta la comunidad pero la cuota es cara", "es", "breakdown"),
        ("Trabajo en un banco", "es", "neutral"),
    ],
)
def test_tricky_phrases(text: str, language: str, moment: str) -> None:
    assert sentiment(text, language).moment == moment  # type: ignore[arg-type]


def test_question_intent_tips_a_neutral_answer() -> None:
    # "cold emails" says nothing by itself; as an answer to "what has not worked?" it is a low.
    assert sentiment("cold emails", "en", "low").moment == "breakdown"
    assert sentiment("cold emails", "en", "high").moment == "celebrate"
    assert sentiment("cold emails", "en", None).moment == "neutral"
    assert moment_of(0.0, "goal") == "neutral"
