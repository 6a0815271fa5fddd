"""Example omniplug plugin: 'Example Mall', a toy shop API shaped like Taobao's TOP gateway.

It exists to show and test the plugin harness end to end: md5 request
signing, session tokens that expire and rotate, page/size and cursor paging,
throttling in the platform's own error form, and normalise with rejects.
"""
