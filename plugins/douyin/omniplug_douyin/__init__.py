"""omniplug plugin for the Douyin family of APIs.

One platform, ``douyin``, served by four gateways with their own auth:

* Ocean Engine Marketing API (``ad.oceanengine.com``, header ``Access-Token``):
  ad reports, creative materials, crowd touch data, and the Xingtu (星图)
  KOL marketplace;
* Douyin Open Platform (``open.douyin.com``, header ``access-token``): the
  brand account's followers, with their open_id / union_id;
* Doudian (抖店, ``openapi-fxg.jinritemai.com``, HMAC-SHA256 signed): shop orders.

Modules: :mod:`.ocean`, :mod:`.xingtu`, :mod:`.open_platform` and
:mod:`.doudian` talk to one API each and map its records; :mod:`.plugin`
holds the configuration and the streams; ``sim_*`` modules are the
simulator, :mod:`.simulator` puts it together.
"""
