"""Each supported language: a real-looking source file and the definitions it must yield."""

from __future__ import annotations

from pathlib import Path

import pytest

from codegen_server.context.index import WorkspaceIndex

FIXTURES: dict[str, tuple[str, str, set[tuple[str, str]], set[str]]] = {
    # file name: (source, expected (name, kind) definitions, expected referenced names)
    "python": ("shapes.py", '''\
import math
from typing import Protocol

UNIT = 1.0


class Shape(Protocol):
    def area(self) -> float: ...


class Circle:
    """A circle."""

    def __init__(self, radius: float) -> None:
        self.radius = radius

    @property
    def area(self) -> float:
        return math.pi * square(self.radius)


def square(x: float) -> float:
    return x * x


async def fetch(url):
    return await download(url)
''', {("UNIT", "constant"), ("Shape", "class"), ("area", "method"), ("Circle", "class"),
      ("__init__", "method"), ("square", "function"), ("fetch", "function")}, {"square", "download", "Protocol"}),
    "javascript": ("app.js", '''\
import { render } from "./view.js";

export const VERSION = "1.0";

export class Widget extends Base {
  constructor(name) {
    super();
    this.name = name;
  }
  draw(ctx) {
    return render(ctx, this.name);
  }
}

function helper(a) {
  return new Widget(a);
}

const arrow = (x) => helper(x);
''', {("VERSION", "constant"), ("Widget", "class"), ("constructor", "method"), ("draw", "method"),
      ("helper", "function"), ("arrow", "function")}, {"render", "Widget", "helper", "Base"}),
    "typescript": ("service.ts", '''\
import { Db } from "./db";

export interface Repo<T> {
  find(id: string): Promise<T>;
}

export type Id = string;

export enum Color { Red, Green }

export abstract class BaseService {
  abstract name(): string;
}

export class UserService extends BaseService implements Repo<User> {
  constructor(private db: Db) { super(); }
  async find(id: Id): Promise<User> {
    return this.db.load(id);
  }
  name(): string { return "users"; }
}

export function makeService(db: Db): UserService {
  return new UserService(db);
}

namespace Internal {
  export const x = 1;
}
''', {("Repo", "interface"), ("find", "method"), ("Id", "type"), ("Color", "enum"), ("BaseService", "class"),
      ("name", "method"), ("UserService", "class"), ("constructor", "method"), ("makeService", "function"),
      ("Internal", "module")}, {"load", "UserService", "Db", "BaseService"}),
    "tsx": ("Button.tsx", '''\
import React from "react";

interface Props { label: string }

export function Button({ label }: Props) {
  return <button onClick={() => track(label)}>{label}</button>;
}

export const Icon = () => <span />;
''', {("Props", "interface"), ("Button", "function"), ("Icon", "function")}, {"track"}),
    "go": ("server.go", '''\
package server

import (
	"fmt"
	"net/http"
)

const DefaultPort = 8080

var started = false

type Handler interface {
	Serve(w http.ResponseWriter) error
}

type Server struct {
	Port int
}

type Port int

func NewServer(port int) *Server {
	return &Server{Port: port}
}

func (s *Server) Start() error {
	fmt.Println("starting")
	return listen(s.Port)
}
''', {("DefaultPort", "constant"), ("started", "constant"), ("Handler", "interface"), ("Serve", "method"),
      ("Server", "struct"), ("Port", "type"), ("NewServer", "function"), ("Start", "method")},
     {"Println", "listen", "Server"}),
    "rust": ("lib.rs", '''\
use std::collections::HashMap;

pub const LIMIT: usize = 10;

pub struct Cache {
    map: HashMap<String, String>,
}

pub enum Mode { Fast, Slow }

pub trait Store {
    fn get(&self, key: &str) -> Option<String>;
}

impl Cache {
    pub fn new() -> Self {
        Cache { map: HashMap::new() }
    }
}

impl Store for Cache {
    fn get(&self, key: &str) -> Option<String> {
        self.map.get(key).cloned()
    }
}

macro_rules! square {
    ($x:expr) => { $x * $x };
}

mod tests {}

pub fn run() {
    let c = Cache::new();
    println!("{:?}", c.get("a"));
}
''', {("LIMIT", "constant"), ("Cache", "struct"), ("Mode", "enum"), ("Store", "trait"), ("get", "method"),
      ("new", "method"), ("square", "macro"), ("tests", "module"), ("run", "function")},
     {"new", "get", "HashMap", "println"}),
    "java": ("Account.java", '''\
package bank;

import java.util.List;

public class Account implements Comparable<Account> {
    private final long balance;

    public Account(long balance) {
        this.balance = balance;
    }

    public long deposit(long amount) {
        return Math.addExact(balance, amount);
    }

    interface Listener { void changed(Account a); }

    enum Kind { CHECKING, SAVINGS }

    record Entry(long amount) {}
}
''', {("Account", "class"), ("balance", "field"), ("deposit", "method"), ("Listener", "interface"),
      ("changed", "method"), ("Kind", "enum"), ("Entry", "class")}, {"addExact", "Comparable"}),
    "c": ("buffer.c", '''\
#include <stdlib.h>
#include "buffer.h"

#define CAPACITY 64
#define MIN(a, b) ((a) < (b) ? (a) : (b))

typedef struct buffer {
    char *data;
    size_t len;
} buffer_t;

enum state { EMPTY, FULL };

int buffer_push(buffer_t *b, char c);

static char *grow(buffer_t *b) {
    return realloc(b->data, CAPACITY);
}

int buffer_push(buffer_t *b, char c) {
    grow(b);
    return 0;
}
''', {("CAPACITY", "macro"), ("MIN", "macro"), ("buffer", "struct"), ("buffer_t", "type"), ("state", "enum"),
      ("buffer_push", "prototype"), ("grow", "function"), ("buffer_push", "function")}, {"grow", "realloc", "buffer_t"}),
    "cpp": ("geometry.cpp", '''\
#include <vector>

namespace geo {

class Point {
public:
    Point(double x, double y);
    double norm() const;
private:
    double x_, y_;
};

struct Box { Point lo, hi; };

double Point::norm() const {
    return std::sqrt(x_ * x_ + y_ * y_);
}

template <typename T>
T clamp(T v, T lo, T hi) {
    return v < lo ? lo : (v > hi ? hi : v);
}

using Points = std::vector<Point>;

}  // namespace geo
''', {("geo", "module"), ("Point", "class"), ("norm", "method"), ("Box", "struct"), ("clamp", "function"),
      ("Points", "type")}, {"sqrt", "Point"}),
}


@pytest.mark.parametrize("language", sorted(FIXTURES))
def test_definitions_and_references_per_language(tmp_path: Path, language: str) -> None:
    name, source, expected_defs, expected_refs = FIXTURES[language]
    (tmp_path / name).write_text(source)
    index = WorkspaceIndex(tmp_path)
    stats = index.refresh()
    assert stats.files == 1 and stats.parsed == 1
    tags = index.get(name).tags
    assert tags.language == language
    found = {(d.name, d.kind) for d in tags.definitions}
    assert expected_defs <= found, f"missing {expected_defs - found}"
    assert expected_refs <= set(tags.references), f"missing refs {expected_refs - set(tags.references)}"
    assert tags.imports, "imports are collected"
    for definition in tags.definitions:
        assert 0 <= definition.line <= definition.end_line < len(source.splitlines())
        assert definition.name in definition.signature or definition.kind == "impl"
        assert "\n" not in definition.signature


def test_python_signature_spans_and_parents(tmp_path: Path) -> None:
    name, source, _, _ = FIXTURES["python"]
    (tmp_path / name).write_text(source)
    index = WorkspaceIndex(tmp_path)
    index.refresh()
    definitions = index.get(name).tags.definitions
    by_name = {d.name: d for d in definitions if d.kind != "method" or d.name == "__init__"}
    circle = by_name["Circle"]
    init = by_name["__init__"]
    assert circle.signature == "class Circle:"
    assert init.signature == "    def __init__(self, radius: float) -> None:"
    assert definitions[init.parent].name == "Circle"
    assert (circle.line, circle.end_line) == (10, 18)  # 0-based, the whole class body
    assert by_name["fetch"].signature == "async def fetch(url):"
