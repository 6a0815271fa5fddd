"""omniplug plugin for JD (京东): the JOS gateway (``api.jd.com/routerjson``) and its local simulator.

Streams: ``orders`` (jingdong.pop.order.search), ``members`` (jingdong.crm.member.scan),
``ad_reports`` (京准通 daily creative report), ``products`` (jingdong.sku.read.searchSkuList),
``touchpoints`` (brand crowd behaviour) and ``materials`` (京准通 creatives). See README.md.
"""
