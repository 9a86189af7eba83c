"""A small real-looking Python module the edit tests patch."""

APP = '''\
"""Inventory service."""

import logging

log = logging.getLogger(__name__)


class Inventory:
    def __init__(self):
        self.items = {}

    def add(self, name, count=1):
        if count <= 0:
            raise ValueError("count must be positive")
        self.items[name] = self.items.get(name, 0) + count
        log.info("added %s x%d", name, count)

    def remove(self, name, count=1):
        have = self.items.get(name, 0)
        if count > have:
            raise KeyError(name)
        self.items[name] = have - count
        if self.items[name] == 0:
            del self.items[name]

    def total(self):
        return sum(self.items.values())


def main():
    inv = Inventory()
    inv.add("apple", 3)
    inv.remove("apple")
    print(inv.total())
'''
