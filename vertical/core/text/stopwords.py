"""Compact curated stopword lists (function words only), for overlap/grounding and BM25.

Written for this project rather than taken from bm25s' 841-word Chinese list, which also drops words
that carry meaning in a counseling domain (安全, 帮助, 需要, 问题, 高兴, 严重...).
"""

from __future__ import annotations

from functools import lru_cache

EN = frozenset(
    """
a about above after again against all am an and any are aren't as at be because been before being below between
both but by can can't cannot could couldn't did didn't do does doesn't doing don't down during each few for from
further had hadn't has hasn't have haven't having he he'd he'll he's her here here's hers herself him himself his how
how's i i'd i'll i'm i've if in into is isn't it it's its itself just let's me more most my myself no nor not of off
on once only or other ought our ours ourselves out over own same shan't she she'd she'll she's should shouldn't so
some such than that that's the their theirs them themselves then there there's these they they'd they'll they're
they've this those through to too under until up very was wasn't we we'd we'll we're we've were weren't what what's
when when's where where's which while who who's whom why why's will with won't would wouldn't you you'd you'll you're
you've your yours yourself yourselves also may might must shall yet etc e.g i.e
""".split()
)

ZH = frozenset(
    """
的 地 得 了 着 著 过 過 是 在 和 与 與 及 或 或者 也 都 就 还 還 又 而 而且 但 但是
可是 不过 不過 然而 因为 因為 所以 如果 要是 虽然 雖然 即使 于是 於是 然后 然後 并且 並且
以及 还是 還是 这 這 那 这个 這個 那个 那個 这些 這些 那些 这样 這樣 那样 那樣 这里 這裡
那里 那裡 这么 這麼 那么 那麼 我 你 您 他 她 它 我们 我們 你们 你們 他们 他們 她们 她們
它们 它們 咱们 咱們 自己 之 其 把 被 让 讓 给 給 对 對 对于 對於 从 從 向 往 到 于 於
以 为 為 为了 為了 由 跟 同 比 啊 呀 吗 嗎 呢 吧 嘛 哦 喔 嗯 哈 啦 么 麼 一个 一個
一些 一种 一種 有些 很 太 更 最 挺 非常 比较 比較 就是 只是 已经 已經 一下 一直 什么 什麼
怎么 怎麼 哪 哪里 哪裡 谁 誰 等 等等 个 個 些 种 種 次 里 裡 上 下 中 将 將 把 被 所
所有 每 各 各种 各種 某 该 該 此 其他 其它 另外 可以 能 能够 能夠 会 會 要 应该 應該 就会
還有 还有
""".split()
)


@lru_cache(maxsize=1)
def stopwords() -> frozenset[str]:
    """English + Chinese stopwords (lower-cased)."""
    return EN | ZH
