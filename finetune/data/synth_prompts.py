"""What KB synthesis writes, in the chunk's language: prompts, question filters, the answer wrapper.

One :class:`SynthLanguage` per supported language (zh, en); any other language uses English. The
question prompt has two worked examples because a 135M model copies the pattern instead of asking
"what would you like to know?".
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from vertical.core.text import detect_language, sentences
from vertical.core.text.scripts import HAN

Messages = list[dict[str, str]]


@dataclass(frozen=True)
class SynthLanguage:
    code: str
    shots: tuple[tuple[str, str], ...]
    text_label: str  # "Text: " before the chunk in prompts
    ask_question: str  # appended to the chunk: write one question
    ask_answer: str  # format string with {question}
    sources_label: str  # user turn of the example: "Sources:" … "Question: …"
    question_label: str
    according_to: str  # format string with {number} and {quote}
    refers_to_text: re.Pattern[str]  # "the passage says…": questions that need the chunk to make sense
    question_re: re.Pattern[str]
    question_tokens: int  # generation budgets (a Chinese character is about 2 SmolLM2 tokens)
    answer_tokens: int

    def question_prompt(self, chunk_text: str) -> Messages:
        messages: Messages = []
        for text, question in self.shots:
            messages += [
                {"role": "user", "content": f"{self.text_label}{text}{self.ask_question}"},
                {"role": "assistant", "content": question},
            ]
        return messages + [{"role": "user", "content": f"{self.text_label}{chunk_text.strip()}{self.ask_question}"}]

    def answer_prompt(self, chunk_text: str, question: str) -> Messages:
        ask = self.ask_answer.format(question=question)
        return [{"role": "user", "content": f"{self.text_label}{chunk_text.strip()}\n\n{ask}"}]

    def clean_question(self, raw: str) -> str:
        """The first well-formed question in the model output ("" if there is none)."""
        flat = " ".join(raw.replace("\n", " ").split())
        if self.code == "zh":
            for sentence in sentences(raw):
                match = self.question_re.search(sentence)
                if match:
                    return match.group(0).rstrip("?？") + "？"
            return ""
        match = self.question_re.search(flat)
        return match.group(0) if match else ""


EN = SynthLanguage(
    code="en",
    shots=(
        (
            "Caffeine stays in the body for many hours, so coffee in the afternoon can make it harder to fall "
            "asleep at night.",
            "Why can afternoon coffee make it harder to fall asleep?",
        ),
        (
            "A support group brings together people facing the same problem so they can share experiences and coping "
            "ideas.",
            "What is a support group?",
        ),
    ),
    text_label="Text: ",
    ask_question="\nWrite one question that this text answers.",
    ask_answer="Using the text, answer in one short sentence: {question}",
    sources_label="Sources:",
    question_label="Question: ",
    according_to='According to [{number}]: "{quote}"',
    refers_to_text=re.compile(
        r"\b(the|this|that|above|given|following)\s+(text|passage|article|excerpt|paragraph|"
        r"document|section|source|context)\b",
        re.I,
    ),
    question_re=re.compile(r"\b(What|How|Why|When|Which|Who|Where|Can|Could|Is|Are|Does|Do|Should)\b[^?\n]{3,200}\?"),
    question_tokens=40,
    answer_tokens=40,
)

ZH = SynthLanguage(
    code="zh",
    shots=(
        ("咖啡因会在身体里停留好几个小时，所以下午喝咖啡可能让晚上更难入睡。", "为什么下午喝咖啡会让晚上更难入睡？"),
        ("互助小组把面临同样困难的人聚在一起，让大家分享经历和应对办法。", "什么是互助小组？"),
    ),
    text_label="资料：",
    ask_question="\n请写一个这段资料能够回答的问题。",
    ask_answer="根据资料，用一句简短的话回答：{question}",
    sources_label="资料：",
    question_label="问题：",
    according_to="根据[{number}]：“{quote}”",
    refers_to_text=re.compile(
        "(这|那|上|下|本|该)(段|篇|份|则)?(文字|资料|文本|文章|材料|内容|段落|原文|短文|话)|上文|文中|原文|"
        "根据(资料|文本|材料)"
    ),
    # A question holding Chinese: 4–80 characters before the question mark, no sentence end inside.
    question_re=re.compile(f'[^。！？?!：:\\s“”"]*[{HAN}][^。！？?!：:“”"]{{2,80}}[？?]'),
    question_tokens=64,
    answer_tokens=80,
)

LANGUAGES = {"en": EN, "zh": ZH}


def language_of(text: str) -> SynthLanguage:
    return LANGUAGES.get(detect_language(text), EN)
