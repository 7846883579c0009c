# The sanitizer builds, shared by libbmap and the unit tests that link it:
# SAN=thread or SAN=address adds the flags and picks the build folder B,
# so that a test binary and the library it links are always built alike.
ifeq ($(SAN),thread)
CC := clang
CFLAGS += -fsanitize=thread -O1
B := build-thread
else ifeq ($(SAN),address)
CFLAGS += -fsanitize=address,undefined -fno-omit-frame-pointer -O1
B := build-address
else
B := build
endif
