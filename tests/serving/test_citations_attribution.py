"""Post-hoc citation attribution: supported sentences get the right [n], unsupported ones none."""

from serving.citations import attribute_citations

SOURCES = [
    "Caffeine can stay in your system for many hours, so have your last coffee by early afternoon.",
    "If you lie awake for more than twenty minutes, get up and do something quiet until sleepy.",
]


def test_each_supported_sentence_cites_its_source():
    answer = "Have your last coffee by early afternoon because caffeine stays for hours. " \
             "If awake more than twenty minutes, get up and do something quiet. Bananas are yellow."
    text, used = attribute_citations(answer, SOURCES)
    assert used == [1, 2]
    assert "hours [1]." in text
    assert "quiet [2]." in text
    assert text.endswith("Bananas are yellow.")


def test_answers_that_already_cite_are_left_alone():
    answer = "Avoid late coffee [2]."
    assert attribute_citations(answer, SOURCES) == (answer, [])
    assert attribute_citations("No sources here.", []) == ("No sources here.", [])
