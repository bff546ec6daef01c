"""The curated lexicon of text triage (xinqiao.hotline.triage) — data only, no logic.

Each entry is ``(term, kind, level, category)``: ``level`` is the level the term gives when it
is said now, of oneself, and not negated; triage.py lowers it for past, hypothetical and
third-party readings (docs/triage.md, "Level mapping"). Terms are matched on the normalised
text (simplified characters, half-width, lower-case ASCII). A term that is a regular
expression is written ``re:PATTERN``.

Sources of the categories (cited per block below):
- C-SSRS: Posner K. et al., Columbia–Suicide Severity Rating Scale (2008; Am J Psychiatry
  2011;168:1266-77): ideation graded as wish to be dead → non-specific active thoughts →
  ideation with method → with intent → with plan and intent; behaviour as actual, interrupted
  and aborted attempts, preparatory acts, and non-suicidal self-injury. The screener treats
  method, intent, plan and behaviour within 3 months as high risk.
- WHO, Preventing suicide: a global imperative (2014) and Preventing suicide: a resource for
  media professionals (2017): a prior attempt is the strongest single risk factor;
  hopelessness, feeling a burden, talk of wanting to die, giving things away and saying
  goodbye are warning signs.
- 北京心理危机研究与干预中心 (Beijing Suicide Research and Prevention Center), 心理援助热线
  risk assessment: current ideation, plan, prior attempts, acute distress and hopelessness.
- Joiner, Why People Die by Suicide (2005): perceived burdensomeness (累赘, 拖累) and thwarted
  belongingness.
- Seed 002 篇6 三(二)3 建立高危风险处置机制: 及时识别有自伤、自杀、冲动伤人风险等严重心理
  行为问题的个体 — the three risk kinds (self-harm, suicide, harm to others) come from here.
- Seed 002 篇6 (the epidemic measures): isolation, bereavement, fear of infection and return
  to work or school are the ordinary worries listed as ``distress`` (low).
The online abbreviations and homophones (zs, 紫砂, 想si …) are the platform's, from common
Chinese internet usage; they are listed so that they are seen, not because a source lists them.
"""

from __future__ import annotations

Entry = tuple[str, str, str, str]

SUICIDE, SELF_HARM, HARM_TO_OTHERS, ACUTE_DISTRESS, DISTRESS, ABUSE = (
    "suicide",
    "self_harm",
    "harm_to_others",
    "acute_distress",
    "distress",
    "abuse",
)

ENTRIES: tuple[Entry, ...] = (
    # --- Suicide: wish to be dead (C-SSRS 1, passive). Medium: a wish, no active thought.
    ("活着没意思", SUICIDE, "medium", "wish_dead"),
    ("活着也没意思", SUICIDE, "medium", "wish_dead"),
    ("活着没什么意思", SUICIDE, "medium", "wish_dead"),
    ("活着没意义", SUICIDE, "medium", "wish_dead"),
    ("活着没什么意义", SUICIDE, "medium", "wish_dead"),
    ("活着还有什么意义", SUICIDE, "medium", "wish_dead"),
    ("活着的意义是什么", SUICIDE, "medium", "wish_dead"),
    ("活着好累", SUICIDE, "medium", "wish_dead"),
    ("活着太累", SUICIDE, "medium", "wish_dead"),
    ("活得太累", SUICIDE, "medium", "wish_dead"),
    ("活着这么累", SUICIDE, "medium", "wish_dead"),
    ("活着太痛苦", SUICIDE, "medium", "wish_dead"),
    ("一睡不醒", SUICIDE, "medium", "wish_dead"),
    ("不要再醒来", SUICIDE, "medium", "wish_dead"),
    ("不要醒来", SUICIDE, "medium", "wish_dead"),
    ("不想醒来", SUICIDE, "medium", "wish_dead"),
    ("想消失", SUICIDE, "medium", "wish_dead"),
    ("从这个世界消失", SUICIDE, "medium", "wish_dead"),
    ("生无可恋", SUICIDE, "medium", "wish_dead"),
    ("了无生趣", SUICIDE, "medium", "wish_dead"),
    ("不配活着", SUICIDE, "medium", "wish_dead"),
    ("没有存在的必要", SUICIDE, "medium", "wish_dead"),
    ("死了就好了", SUICIDE, "medium", "wish_dead"),
    ("我死了", SUICIDE, "medium", "wish_dead"),
    ("我消失了", SUICIDE, "medium", "wish_dead"),
    ("想不开", SUICIDE, "medium", "wish_dead"),
    ("wish i was dead", SUICIDE, "medium", "wish_dead"),
    ("better off dead", SUICIDE, "medium", "wish_dead"),
    ("no reason to live", SUICIDE, "medium", "wish_dead"),
    # --- Suicide: active ideation (C-SSRS 2). High: said now, in a text we cannot ask back
    # about; the C-SSRS screener's follow-up questions are for the person who reads it.
    ("想死", SUICIDE, "high", "ideation"),
    ("想要死", SUICIDE, "high", "ideation"),
    ("想去死", SUICIDE, "high", "ideation"),
    ("想过死", SUICIDE, "high", "ideation"),
    ("好想死", SUICIDE, "high", "ideation"),
    ("去死", SUICIDE, "high", "ideation"),
    ("求死", SUICIDE, "high", "ideation"),
    ("寻死", SUICIDE, "high", "ideation"),
    ("想自杀", SUICIDE, "high", "ideation"),
    ("自杀", SUICIDE, "high", "ideation"),
    ("自尽", SUICIDE, "high", "ideation"),
    ("轻生", SUICIDE, "high", "ideation"),
    ("不想活", SUICIDE, "high", "ideation"),
    ("不想再活", SUICIDE, "high", "ideation"),
    ("不要活了", SUICIDE, "high", "ideation"),
    ("re:不想再?(这样)?活下去", SUICIDE, "high", "ideation"),
    ("结束生命", SUICIDE, "high", "ideation"),
    ("结束自己的生命", SUICIDE, "high", "ideation"),
    ("结束这一切", SUICIDE, "high", "ideation"),
    ("了结自己", SUICIDE, "high", "ideation"),
    ("了断", SUICIDE, "high", "ideation"),
    ("一了百了", SUICIDE, "high", "ideation"),
    ("死了算了", SUICIDE, "high", "ideation"),
    ("不如死了", SUICIDE, "high", "ideation"),
    ("还不如死", SUICIDE, "high", "ideation"),
    ("做傻事", SUICIDE, "high", "ideation"),
    ("解脱", SUICIDE, "medium", "ideation"),  # also "freed from work": medium, not high
    ("zs", SUICIDE, "high", "ideation"),  # online abbreviation of zìshā
    ("zisha", SUICIDE, "high", "ideation"),
    ("紫砂", SUICIDE, "high", "ideation"),  # homophone of 自杀 used online
    ("自sha", SUICIDE, "high", "ideation"),
    ("想si", SUICIDE, "high", "ideation"),
    ("kill myself", SUICIDE, "high", "ideation"),
    ("killing myself", SUICIDE, "high", "ideation"),
    ("kms", SUICIDE, "high", "ideation"),
    ("suicide", SUICIDE, "high", "ideation"),
    ("suicidal", SUICIDE, "high", "ideation"),
    ("end my life", SUICIDE, "high", "ideation"),
    ("want to die", SUICIDE, "high", "ideation"),
    ("wanna die", SUICIDE, "high", "ideation"),
    ("unalive", SUICIDE, "high", "ideation"),
    # --- Suicide: method, plan, preparatory acts, farewell (C-SSRS 3-5 and preparatory
    # behaviour; WHO 2014 warning signs: saying goodbye, giving things away, a will).
    ("怎么死", SUICIDE, "high", "method"),
    ("死得不痛苦", SUICIDE, "high", "method"),
    ("跳楼", SUICIDE, "high", "method"),
    ("跳河", SUICIDE, "high", "method"),
    ("跳江", SUICIDE, "high", "method"),
    ("跳桥", SUICIDE, "high", "method"),
    ("跳海", SUICIDE, "high", "method"),
    ("re:(从|往).{0,6}跳下去", SUICIDE, "high", "method"),
    ("上吊", SUICIDE, "high", "method"),
    ("烧炭", SUICIDE, "high", "method"),
    ("卧轨", SUICIDE, "high", "method"),
    ("服毒", SUICIDE, "high", "method"),
    ("割腕", SUICIDE, "high", "method"),
    ("re:割(过|了)(手腕|手臂|腕)", SUICIDE, "high", "method"),
    ("re:(喝|服|吃)(了|下)?(农药|敌敌畏|百草枯|老鼠药)", SUICIDE, "high", "method"),
    (
        "re:(吞|吃|服)(了|下|掉)?(一整瓶|一瓶|一把|所有的?|全部的?|大量|很多|好多|\\d+片|[一二三四五六七八九十几]+十片)(的)?(安眠)?药",
        SUICIDE,
        "high",
        "method",
    ),  # noqa: E501
    ("吞药", SUICIDE, "high", "method"),
    ("吃过一次安眠药", SUICIDE, "high", "method"),
    ("安眠药全吃", SUICIDE, "high", "method"),
    (
        "re:(攒|囤|存|藏|准备)(了|好)?(很多|好多|一些|大量|一瓶|一堆)?的?(安眠)?药",
        SUICIDE,
        "high",
        "plan",
    ),  # noqa: E501
    ("安眠药攒了", SUICIDE, "high", "plan"),
    ("re:买(了|好)(了)?(木炭|炭|绳子|农药|刀片|刀)", SUICIDE, "high", "plan"),
    ("去买绳子", SUICIDE, "high", "plan"),
    ("准备好绳子", SUICIDE, "high", "plan"),
    ("准备好了绳子", SUICIDE, "high", "plan"),
    ("想好了怎么死", SUICIDE, "high", "plan"),
    ("站在天台", SUICIDE, "high", "plan"),
    ("遗书", SUICIDE, "high", "farewell"),
    ("遗言", SUICIDE, "high", "farewell"),
    ("后事", SUICIDE, "high", "farewell"),
    ("永别", SUICIDE, "high", "farewell"),
    ("下辈子再见", SUICIDE, "high", "farewell"),
    ("下辈子见", SUICIDE, "high", "farewell"),
    ("来世再见", SUICIDE, "high", "farewell"),
    ("这个世界再见", SUICIDE, "high", "farewell"),
    ("再见了这个世界", SUICIDE, "high", "farewell"),
    ("今晚就走", SUICIDE, "high", "farewell"),
    ("have a plan", SUICIDE, "high", "plan"),
    # --- Self-harm (C-SSRS non-suicidal self-injurious behaviour; seed 002 篇6 三(二)3 自伤).
    # High now: the injury may need care today; NSSI also predicts later suicide (Ribeiro
    # et al., Psychol Med 2016;46:225-36). Medium in the past (triage.py).
    ("自残", SELF_HARM, "high", "nssi"),
    ("自伤", SELF_HARM, "high", "nssi"),
    ("伤害自己", SELF_HARM, "high", "nssi"),
    ("割自己", SELF_HARM, "high", "nssi"),
    ("划自己", SELF_HARM, "high", "nssi"),
    ("割手", SELF_HARM, "high", "nssi"),
    ("划手", SELF_HARM, "high", "nssi"),
    ("划了自己", SELF_HARM, "high", "nssi"),
    ("烫自己", SELF_HARM, "high", "nssi"),
    ("自己划的", SELF_HARM, "high", "nssi"),
    ("划痕", SELF_HARM, "high", "nssi"),
    ("刀片", SELF_HARM, "medium", "means"),
    ("cut myself", SELF_HARM, "high", "nssi"),
    ("self harm", SELF_HARM, "high", "nssi"),
    ("self-harm", SELF_HARM, "high", "nssi"),
    # --- Harm to others (seed 002 篇6 三(二)3 冲动伤人; C-SSRS intent applied to others).
    ("杀了他", HARM_TO_OTHERS, "high", "intent"),
    ("杀了她", HARM_TO_OTHERS, "high", "intent"),
    ("杀人", HARM_TO_OTHERS, "high", "intent"),
    ("弄死", HARM_TO_OTHERS, "high", "intent"),
    ("砍死", HARM_TO_OTHERS, "high", "intent"),
    ("捅死", HARM_TO_OTHERS, "high", "intent"),
    ("捅人", HARM_TO_OTHERS, "high", "intent"),
    ("砍人", HARM_TO_OTHERS, "high", "intent"),
    ("同归于尽", HARM_TO_OTHERS, "high", "intent"),
    ("报复社会", HARM_TO_OTHERS, "high", "intent"),
    ("kill him", HARM_TO_OTHERS, "high", "intent"),
    ("kill her", HARM_TO_OTHERS, "high", "intent"),
    # --- Being harmed: threats and domestic violence (the problem category 家庭暴力).
    ("杀了我", ABUSE, "high", "threat"),
    ("弄死我", ABUSE, "high", "threat"),
    ("拿着菜刀追我", ABUSE, "high", "threat"),
    ("家暴", ABUSE, "medium", "violence"),
    ("打我", ABUSE, "medium", "violence"),
    ("打她", ABUSE, "medium", "violence"),
    # --- Acute distress (北京心理危机研究与干预中心 hotline assessment: acute distress and
    # hopelessness; WHO 2014: hopelessness, feeling a burden; Joiner 2005 burdensomeness).
    ("崩溃", ACUTE_DISTRESS, "medium", "acute"),
    ("崩了", ACUTE_DISTRESS, "medium", "acute"),
    ("垮了", ACUTE_DISTRESS, "medium", "acute"),
    ("撑不下去", ACUTE_DISTRESS, "medium", "acute"),
    ("撑不住", ACUTE_DISTRESS, "medium", "acute"),
    ("扛不住", ACUTE_DISTRESS, "medium", "acute"),
    ("活不下去", ACUTE_DISTRESS, "medium", "acute"),
    ("受不了了", ACUTE_DISTRESS, "medium", "acute"),
    ("受不了这种日子", ACUTE_DISTRESS, "medium", "acute"),
    ("要疯了", ACUTE_DISTRESS, "medium", "acute"),
    ("快疯了", ACUTE_DISTRESS, "medium", "acute"),
    ("喘不过气", ACUTE_DISTRESS, "medium", "acute"),
    ("窒息", ACUTE_DISTRESS, "medium", "acute"),
    ("要死要活", ACUTE_DISTRESS, "medium", "acute"),
    ("行尸走肉", ACUTE_DISTRESS, "medium", "acute"),
    ("以泪洗面", ACUTE_DISTRESS, "medium", "acute"),
    ("心如死灰", ACUTE_DISTRESS, "medium", "hopeless"),
    ("绝望", ACUTE_DISTRESS, "medium", "hopeless"),
    ("走投无路", ACUTE_DISTRESS, "medium", "hopeless"),
    ("没有希望", ACUTE_DISTRESS, "medium", "hopeless"),
    ("看不到任何希望", ACUTE_DISTRESS, "medium", "hopeless"),
    ("谁能帮帮我", ACUTE_DISTRESS, "medium", "hopeless"),
    ("一无是处", ACUTE_DISTRESS, "medium", "hopeless"),
    ("累赘", ACUTE_DISTRESS, "medium", "burden"),
    ("拖累", ACUTE_DISTRESS, "medium", "burden"),
    ("hopeless", ACUTE_DISTRESS, "medium", "hopeless"),
    ("can't go on", ACUTE_DISTRESS, "medium", "acute"),
    # --- Ordinary distress (low): the worries of seed 002 篇6 — sleep, fear of infection,
    # isolation, return to work or school, bereavement, family conflict.
    ("失眠", DISTRESS, "low", "sleep"),
    ("睡不着", DISTRESS, "low", "sleep"),
    ("睡不好", DISTRESS, "low", "sleep"),
    ("睡眠很差", DISTRESS, "low", "sleep"),
    ("噩梦", DISTRESS, "low", "sleep"),
    ("焦虑", DISTRESS, "low", "anxiety"),
    ("紧张", DISTRESS, "low", "anxiety"),
    ("心慌", DISTRESS, "low", "anxiety"),
    ("害怕", DISTRESS, "low", "anxiety"),
    ("担心", DISTRESS, "low", "anxiety"),
    ("着急", DISTRESS, "low", "anxiety"),
    ("急死", DISTRESS, "low", "anxiety"),
    ("吓死", DISTRESS, "low", "anxiety"),
    ("压力大", DISTRESS, "low", "stress"),
    ("压力好大", DISTRESS, "low", "stress"),
    ("压力太大", DISTRESS, "low", "stress"),
    ("stressed", DISTRESS, "low", "stress"),
    ("抑郁", DISTRESS, "low", "mood"),
    ("压抑", DISTRESS, "low", "mood"),
    ("低落", DISTRESS, "low", "mood"),
    ("心情不好", DISTRESS, "low", "mood"),
    ("心情很差", DISTRESS, "low", "mood"),
    ("心情特别差", DISTRESS, "low", "mood"),
    ("难过", DISTRESS, "low", "mood"),
    ("难受", DISTRESS, "low", "mood"),
    ("伤心", DISTRESS, "low", "mood"),
    ("失落", DISTRESS, "low", "mood"),
    ("委屈", DISTRESS, "low", "mood"),
    ("自卑", DISTRESS, "low", "mood"),
    ("想哭", DISTRESS, "low", "mood"),
    ("哭了", DISTRESS, "low", "mood"),
    ("每天都哭", DISTRESS, "low", "mood"),
    ("孤独", DISTRESS, "low", "mood"),
    ("孤单", DISTRESS, "low", "mood"),
    ("迷茫", DISTRESS, "low", "mood"),
    ("emo", DISTRESS, "low", "mood"),
    ("烦", DISTRESS, "low", "irritable"),
    ("烦躁", DISTRESS, "low", "irritable"),
    ("发脾气", DISTRESS, "low", "irritable"),
    ("发火", DISTRESS, "low", "irritable"),
    ("生气", DISTRESS, "low", "irritable"),
    ("气死", DISTRESS, "low", "irritable"),
    ("吵架", DISTRESS, "low", "conflict"),
    ("去世", DISTRESS, "low", "bereavement"),
    ("失恋", DISTRESS, "low", "loss"),
    ("失业", DISTRESS, "low", "loss"),
)

# Idioms and compounds that contain a term but mean something else. They are matched like
# terms and, where they overlap a term, the longer match wins and nothing is reported —
# 笑死 (so funny), 累死了 (so tired), 想死你了 (I miss you so), 死机 (a computer hangs), 死活
# (no matter what), 跳楼价 (rock-bottom price), 狼人杀 (a game), 自杀干预 (the service) …
IDIOMS: tuple[str, ...] = (
    "笑死",
    "累死",
    "热死",
    "冷死",
    "饿死",
    "困死",
    "忙死",
    "难死",
    "丑死",
    "美死",
    "死机",
    "卡死",
    "死活",
    "死磕",
    "死心",
    "死党",
    "找死",
    "作死",
    "该死",
    "死定了",
    "re:想死(你|您|我|他|她|人|咱)",
    "跳楼价",
    "跳楼大甩卖",
    "狼人杀",
    "剧本杀",
    "秒杀",
    "杀毒",
    "杀价",
    "杀青",
    "杀时间",
    "杀手",
    "打死我也",
    "打死也",
    "自杀干预",
    "自杀预防",
    "预防自杀",
    "自杀率",
    "自杀热线",
    "自杀式",
)
