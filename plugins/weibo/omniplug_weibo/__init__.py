"""omniplug plugin for Weibo (Sina Weibo open API and the 超级粉丝通 ads host).

Streams: ``statuses`` (the brand's posts -> materials), ``engagements``
(comments, reposts, exposures and likes -> touchpoints by ``weibo_uid``) and
``ad_reports`` (粉丝通 and KOL spend -> spend). See the README for the
endpoints used and what is simulated.
"""
