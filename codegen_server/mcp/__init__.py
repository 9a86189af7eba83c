"""`codegen-mcp`: codegen's workflows as Model Context Protocol tools, for agent hosts.

A thin face like the CLI: ``server`` registers the tools, ``workspace`` builds each call's Host
and runs the workflow (progress, cancellation, errors), ``results`` shapes what comes back.
"""
