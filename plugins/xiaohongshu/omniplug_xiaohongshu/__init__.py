"""omniplug plugin for Xiaohongshu (RED, 小红书).

Three open surfaces of the platform feed omniplug's canonical tables:

* Juguang (聚光) marketing API at ``adapi.xiaohongshu.com``: offline creative
  reports (``spend``), the creative list (``materials``) and crowd behaviour
  data (``touchpoints``), with an ``Access-Token`` header and rotating
  OAuth refresh tokens;
* Pugongying (蒲公英) KOL collaboration data on the same gateway: post-campaign
  note data (KOL ``materials`` and ``spend``);
* Ark (方舟) e-commerce open platform at ``ark.xiaohongshu.com``: shop orders
  through one md5-signed gateway (``orders``, ``order_items``, ``identity_links``).

:class:`~omniplug_xiaohongshu.plugin.XiaohongshuPlugin` is the entry point;
:class:`~omniplug_xiaohongshu.simulator.XiaohongshuSimulator` plays all three
APIs locally for tests and the demo.
"""
