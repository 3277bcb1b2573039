"""The case file: what a case is made of — its records (application, parties, materials, tasks, events), its
stored files, who may see it, the parties' consent to its content and its progress events. The use cases that
move a case (app/cases) and the register's (app/registry: 登簿, 缮证, the rules a case is checked by) both read
it, so it sits below them both."""
