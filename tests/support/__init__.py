"""Helpers the tests share, one module per idea (imported as ``support.<module>``; tests/ is on sys.path):

- ``personas``: the demo password, a logged-in persona (:class:`Api`), the 西湖区 clerks by stage;
- ``forms``: application forms and material uploads;
- ``cases``: filing an application and taking it through the stages;
- ``waiting``: waiting on a state (never on the clock);
- ``servers``: real HTTP servers in threads and the department simulator's control endpoint;
- ``settings``: the app's settings for a test.

Fixtures live in tests/conftest.py and the plugins it names; this package holds plain functions only."""
