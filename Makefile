# bmap: top-level build.  Each part builds in its own directory; this file
# only orders them and holds the two commands the README promises.
#
#   make            build libbmap, bmapfs, bmapctl and the test programs
#   make test       install missing Debian packages, build, run every test
#   make bench      run the benchmarks and write bench/REPORT.md
#   make install    PREFIX=/usr/local DESTDIR= : library, headers, tools, man
#   make demo       create an image, mount it with bmapfs, show seal/lease/recall
#   make kernel / kernel-check / kernel-test   the Linux 6.12 series under QEMU
#   make progs / progs-check / progs-test      the e2fsprogs and xfsprogs series

PREFIX ?= /usr/local
export PREFIX DESTDIR

SUBDIRS := libbmap ext4img fuse tools examples tests/unit tests/conformance

.PHONY: all deps test bench install clean demo kernel kernel-check kernel-test \
	progs progs-check progs-test $(SUBDIRS)

all: $(SUBDIRS)

$(SUBDIRS):
	$(MAKE) -C $@

ext4img fuse tools examples tests/unit tests/conformance: libbmap
fuse: ext4img

deps:
	scripts/deps.sh

test: deps
	$(MAKE) all
	scripts/run-tests.sh

bench: deps all
	$(MAKE) -C bench

install: all
	$(MAKE) -C libbmap install
	$(MAKE) -C fuse install
	$(MAKE) -C tools install

# the patched e2fsck checks the image at the end (it carries sealed_maps)
demo: deps all progs
	scripts/demo.sh

kernel: deps
	$(MAKE) -C kernel build
kernel-check: deps
	$(MAKE) -C kernel check
# the series' VM test, then the pNFS block layout demo (its own kernel)
kernel-test: deps
	$(MAKE) -C kernel test
	$(MAKE) -C kernel pnfs-test

progs: deps
	$(MAKE) -C progs build
progs-check: deps
	$(MAKE) -C progs check
progs-test: deps all
	$(MAKE) -C progs test

clean:
	for d in $(SUBDIRS) bench kernel progs; do \
		[ -f $$d/Makefile ] && $(MAKE) -C $$d clean; done; \
	rm -rf tests/out
