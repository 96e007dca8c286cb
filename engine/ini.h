/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * A zcsign INI file, read strictly: the one reader of zcsignd's configuration,
 * for the engine (conf.c) and for zcsign-preflight, so that a file one of them
 * refuses for its syntax the other refuses too, with the same line.
 *
 * rte_cfgfile (DPDK's INI library) does the parsing but is lenient where an
 * operator's typo must be loud: it silently skips a line that is neither a
 * section nor key = value and truncates long names and values. So the file is
 * first scanned here line by line: every line is blank, a comment (from '#'),
 * [section] or key = value with a non-empty key and value, no key comes before
 * the first section, and names and values fit rte_cfgfile's buffers. Only then
 * is it loaded by rte_cfgfile, and the caller walks its sections and entries.
 * Duplicate sections and keys are kept (as rte_cfgfile keeps them): refusing
 * them is the caller's business.
 *
 * The scan remembers where each section and entry stands, so that an error
 * found while walking the values can name its line (zcs_ini_line()).
 *
 * rte_cfgfile allocates with malloc and logs through rte_log (which writes to
 * stderr before rte_eal_init), so all of this works without an EAL.
 */
#ifndef ZCS_ENGINE_INI_H
#define ZCS_ENGINE_INI_H

#include <stddef.h>

#include <rte_cfgfile.h>

/* Comments start here, to the end of the line. */
#define ZCS_INI_COMMENT '#'

struct zcs_ini_pos;

/** A loaded file. Fill with zcs_ini_load(), release with zcs_ini_free(). */
struct zcs_ini {
	const char *path; /**< as given to zcs_ini_load() (not copied) */
	struct rte_cfgfile *cfg; /**< walk with rte_cfgfile_section_entries_by_index() */
	struct zcs_ini_pos *pos; /**< line of every section and key, in file order */
	unsigned int npos;
};

/**
 * Scan path strictly, then load it with rte_cfgfile.
 *
 * @param err
 *   On failure, one line starting with the path; for a syntax error
 *   "PATH: line N: ..." naming what is wrong.
 * @return
 *   0 (ini filled; free it), -EINVAL (bad syntax, or rte_cfgfile refused
 *   it), -ENOMEM, or -errno from opening the file (-ENOENT: no such file).
 */
int zcs_ini_load(struct zcs_ini *ini, const char *path, char *err, size_t errlen);

/** Number of sections (of every name, duplicates included). */
int zcs_ini_sections(const struct zcs_ini *ini);

/**
 * Name and entries of the section of index idx (file order), in file order.
 *
 * @param name
 *   CFG_NAME_LEN bytes.
 * @param entries
 *   A calloc()ed array for the caller to free(), NULL when there is none.
 * @return
 *   The number of entries (0 or more), -EINVAL (no such section), -ENOMEM.
 */
int zcs_ini_section(
	const struct zcs_ini *ini, int idx, char *name, struct rte_cfgfile_entry **entries);

/**
 * Line of entry number entry of the section of index section (the indexes of
 * zcs_ini_section()), or of the section's [name] line for entry -1.
 * @return the line number (from 1), or 0 when there is no such entry.
 */
unsigned int zcs_ini_line(const struct zcs_ini *ini, int section, int entry);

/** Release what zcs_ini_load() filled (a zeroed struct is fine too). */
void zcs_ini_free(struct zcs_ini *ini);

#endif /* ZCS_ENGINE_INI_H */
