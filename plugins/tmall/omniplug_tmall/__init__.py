"""omniplug plugin for Tmall / Taobao Open Platform (TOP).

Streams: ``orders`` (trades, by creation time then by modification time),
``members`` (CRM members: ouid, omid and phone hash links), ``ad_reports``
(Alimama daily spend by campaign and creative), ``products`` (items on
sale), ``touchpoints`` (Databank user-level touches; also importable from
the Databank export) and ``materials`` (Alimama creatives with their media).
The package also ships :class:`~omniplug_tmall.simulator.TmallSimulator`, a
local TOP gateway serving the synthetic world.
"""
