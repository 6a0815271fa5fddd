"""The fetch loops of the plugin's streams, one module per API family.

* :mod:`~omniplug_xiaohongshu.streams.walk` - resumable walks over time windows (shared);
* :mod:`~omniplug_xiaohongshu.streams.juguang` - ``ad_reports``, ``creatives``, ``touchpoints``;
* :mod:`~omniplug_xiaohongshu.streams.pgy` - ``kol_notes``;
* :mod:`~omniplug_xiaohongshu.streams.ark` - ``shop_orders``.
"""
