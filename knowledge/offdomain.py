"""Off-domain questions that calibrate the confidence gate: a domain's KB should not answer these.

English comes from the shared general prompts (``vertical/core/resources/general_prompts.jsonl``);
those are English only, so the Chinese list lives here. Everyday topics, none about health or feelings.
"""

from __future__ import annotations

import json
from functools import lru_cache
from pathlib import Path

ZH = (
    "今天股市怎么样？",
    "推荐一部科幻电影",
    "怎么做红烧肉？",
    "北京到上海的高铁要多久？",
    "明天会下雨吗？",
    "世界上最高的山是哪座？",
    "怎样给自行车换内胎？",
    "Python 里怎么读取一个文件？",
    "这个月的汇率是多少？",
    "哪款手机拍照最好？",
    "如何申请护照？",
    "西红柿炒鸡蛋先放什么？",
    "二战是哪一年结束的？",
    "怎么种多肉植物？",
    "推荐几本历史小说",
    "足球世界杯几年举办一次？",
    "怎么清洗洗衣机？",
    "电动车和油车哪个更省钱？",
    "太阳系有几颗行星？",
    "长城有多长？",
    "怎么把照片转换成 PDF？",
    "猫为什么喜欢纸箱？",
    "火锅底料怎么炒？",
    "房贷利率怎么计算？",
    "如何学习弹吉他？",
    "日本的首都是哪里？",
    "怎么提高篮球投篮命中率？",
    "笔记本电脑风扇很吵怎么办？",
    "今年春节是几月几号？",
    "去云南旅游带什么衣服？",
    "怎么注册一家公司？",
    "光合作用的原理是什么？",
    "油画和水彩画有什么区别？",
    "怎样挑选新鲜的鱼？",
    "路由器密码忘了怎么办？",
    "什么是区块链？",
    "围棋的基本规则是什么？",
    "怎么给狗洗澡？",
    "宇宙有多大？",
    "如何写一份求职简历？",
)


@lru_cache(maxsize=1)
def english() -> tuple[str, ...]:
    import vertical

    path = Path(vertical.__file__).parent / "core" / "resources" / "general_prompts.jsonl"
    try:
        lines = path.read_text(encoding="utf-8").splitlines()
    except OSError:
        return ()
    return tuple(json.loads(line)["prompt"] for line in lines if line.strip())


def questions(language: str) -> tuple[str, ...]:
    """Off-domain questions in the KB's language (both lists when it is neither zh nor en)."""
    if language in ("zh", "ja"):
        return ZH
    if language == "en":
        return english()
    return ZH + english()
