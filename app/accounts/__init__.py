"""Account use cases of the portal: signing in by SMS code and 实名认证. They call the departments (公安, 市场监管,
the SMS gateway) for a person's identity, so they sit above both `identity` (users, roles) and `integrations`
(adapters): identity itself calls no department."""
