/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * libFuzzer target: zcsignd's configuration loader (engine/conf.c over
 * engine/ini.c and rte_cfgfile) on arbitrary file contents, written to an
 * in-memory file (memfd) and loaded by its /proc path, as zcsignd loads a
 * file. It must refuse with a message or accept a configuration that passes
 * its own check. No EAL: the loader works before rte_eal_init().
 */
#define _GNU_SOURCE
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/mman.h>
#include <unistd.h>

#include <zcsign/engine.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static struct zcs_engine_conf conf;
	char path[64], err[512];
	int fd = memfd_create("zcsignd.ini", MFD_CLOEXEC);

	if (fd < 0 || (size > 0 && write(fd, data, size) != (ssize_t)size))
		abort();
	snprintf(path, sizeof(path), "/proc/self/fd/%d", fd);
	zcs_engine_conf_init(&conf);
	err[0] = '\0';
	if (zcs_engine_conf_load(&conf, err, sizeof(err), path) == 0) {
		if (zcs_engine_conf_check(&conf, err, sizeof(err)) != 0)
			abort(); /* accepted, yet its own check refuses it */
	} else if (err[0] == '\0') {
		abort(); /* refused without saying why */
	}
	close(fd);
	return 0;
}
