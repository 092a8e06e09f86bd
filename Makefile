# Entry points; each installs what it needs first (scripts/bootstrap.sh is idempotent).
.PHONY: demo test build bootstrap bench mutants

demo:
	scripts/demo.sh

test:
	scripts/test.sh

build:
	scripts/bootstrap.sh
	scripts/build.sh all

bootstrap:
	scripts/bootstrap.sh

# Side-by-side numbers against msal-node and @azure/identity; writes BENCHMARKS.md (not CI).
bench:
	bench/run.sh

# Mutation testing with cargo-mutants (about an hour; not CI). One file: scripts/mutants.sh src/cache.rs
mutants:
	scripts/mutants.sh
