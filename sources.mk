# sources.mk — what pom-proxy is built from and how each part compiles: the
# one list of sources, the language flags and the include paths, included
# by the GNUmakefile and by the static build (static/pom.mk). Paths are
# relative to the repository root; a new .c file in proxycmd/ or auth/ is
# built without an edit here.
#
# proxycmd/ is what every tunnel runs, and it sees only itself: compiled
# with -Iproxycmd alone, an include of an auth/ header there fails to
# compile. auth/ (sign-in and cache commands) builds on proxycmd/; main.c,
# the one place that connects the two, sees both.

POM_MAIN_SRC := main.c
POM_LIB_SRCS := $(wildcard proxycmd/*.c auth/*.c)
POM_SRCS     := $(POM_MAIN_SRC) $(POM_LIB_SRCS)
POM_STD      := -std=c11 -D_GNU_SOURCE -Wall -Wextra

# $(call pom_includes,SOURCE) — the include path SOURCE is compiled with
pom_includes = $(if $(filter proxycmd/%,$1),-Iproxycmd,-Iproxycmd -Iauth)
