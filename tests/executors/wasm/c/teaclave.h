/* The Teaclave `env` file API as a WebAssembly module imports it (docs/wasm-functions.md). */
#ifndef TEACLAVE_H
#define TEACLAVE_H

#define TEACLAVE_IMPORT(name) __attribute__((import_module("env"), import_name(#name)))

TEACLAVE_IMPORT(teaclave_open_input) int teaclave_open_input(const char *name);
TEACLAVE_IMPORT(teaclave_create_output) int teaclave_create_output(const char *name);
TEACLAVE_IMPORT(teaclave_read_file) int teaclave_read_file(int fd, void *buf, int size);
TEACLAVE_IMPORT(teaclave_write_file) int teaclave_write_file(int fd, const void *buf, int size);
TEACLAVE_IMPORT(teaclave_close_file) int teaclave_close_file(int fd);

#define ENTRYPOINT __attribute__((export_name("entrypoint")))

#endif
