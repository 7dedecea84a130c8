"""Scopes (``repository:NAME:pull,push``) and the access rules that grant them.

Actions: ``pull``, ``push``, ``delete`` on repositories; ``*`` on ``registry:catalog``. A rule
grants actions to an account (a name, ``*`` for any authenticated account, ``""`` for everyone,
anonymous clients included) on repositories matching a glob (``team/*``). Without rules for
accounts, every authenticated account may do everything; everyone gets the ``anonymous`` actions
on every repository.
"""
from __future__ import annotations

import fnmatch
from dataclasses import dataclass

REPO_ACTIONS = frozenset({"pull", "push", "delete"})
CATALOG = ("registry", "catalog")


@dataclass(frozen=True)
class Scope:
    type: str
    name: str
    actions: frozenset[str]

    def __str__(self) -> str:
        return f"{self.type}:{self.name}:{','.join(sorted(self.actions))}"


def repo_scope(name: str, *actions: str) -> Scope:
    return Scope("repository", name, frozenset(actions))


CATALOG_SCOPE = Scope("registry", "catalog", frozenset({"*"}))


def parse_scope(text: str) -> Scope | None:
    """``type:name:actions`` (the name may hold colons); None when malformed."""
    typ, sep, rest = text.partition(":")
    name, sep2, actions = rest.rpartition(":")
    if not sep or not sep2 or not typ or not name:
        return None
    acts = frozenset(a for a in actions.split(",") if a)
    return Scope(typ, name, acts)


def format_actions(scope: Scope) -> str:
    """Docker's order: pull before push."""
    order = {"pull": 0, "push": 1, "delete": 2}
    return ",".join(sorted(scope.actions, key=lambda a: (order.get(a, 9), a)))


def scope_text(scope: Scope) -> str:
    return f"{scope.type}:{scope.name}:{format_actions(scope)}"


@dataclass(frozen=True)
class Rule:
    account: str          # a user, "*" (any authenticated account) or "" (anonymous)
    repository: str       # glob over repository names
    actions: frozenset[str]

    def matches(self, account: str | None, name: str) -> bool:
        """Rules for anonymous clients apply to everyone (an account can do what nobody can)."""
        if self.account != "" and (account is None or self.account not in ("*", account)):
            return False
        return fnmatch.fnmatchcase(name, self.repository)


def expand(actions) -> frozenset[str]:
    acts = frozenset(actions)
    return REPO_ACTIONS if "*" in acts else acts


class Policy:
    def __init__(self, rules: list[Rule] | None = None, anonymous: frozenset[str] = frozenset(),
                 open_access: bool = False):
        self.rules = list(rules or ())
        self.anonymous = expand(anonymous)
        self.open_access = open_access

    def actions(self, account: str | None, scope_type: str, name: str) -> frozenset[str]:
        """What ``account`` (None: anonymous) may do on the resource."""
        if self.open_access:
            return REPO_ACTIONS | {"*"}
        if (scope_type, name) == CATALOG:
            return frozenset({"*"}) if account is not None else frozenset()
        if scope_type != "repository":
            return frozenset()
        granted: set[str] = set(self.anonymous)
        if account is not None and not any(r.account != "" for r in self.rules):
            granted |= REPO_ACTIONS
        for rule in self.rules:
            if rule.matches(account, name):
                granted |= expand(rule.actions)
        return frozenset(granted)

    def grant(self, account: str | None, scope: Scope) -> frozenset[str]:
        """The part of ``scope``'s actions that ``account`` may have."""
        allowed = self.actions(account, scope.type, scope.name)
        if "*" in scope.actions and scope.type == "repository":
            return allowed & REPO_ACTIONS
        return scope.actions & allowed if "*" not in allowed else scope.actions
