/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * The strict INI scan in front of rte_cfgfile (contract in ini.h). Every
 * refusal is one line "PATH: line N: what is wrong".
 */
#include <errno.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <rte_cfgfile.h>
#include <rte_common.h>

#include "ini.h"

/*
 * Where a [section] (entry -1) or a key = value stands. rte_cfgfile keeps
 * sections and entries in file order, duplicates included, so the indexes
 * counted here are its indexes.
 */
struct zcs_ini_pos {
	int section;
	int entry;
	unsigned int line;
};

struct scan {
	struct zcs_ini *ini;
	unsigned int lineno;
	int section; /* index of the current section, -1 before the first */
	int entry; /* index of the next entry in it */
	unsigned int cap; /* of ini->pos */
	char *err;
	size_t errlen;
};

static int bad(struct scan *sc, const char *fmt, ...) __rte_format_printf(2, 3);

/* A syntax error: "PATH: line N: " and the reason, -EINVAL. */
static int
bad(struct scan *sc, const char *fmt, ...)
{
	int n = snprintf(sc->err, sc->errlen, "%s: line %u: ", sc->ini->path, sc->lineno);
	va_list ap;

	if (n >= 0 && (size_t)n < sc->errlen) {
		va_start(ap, fmt);
		vsnprintf(sc->err + n, sc->errlen - (size_t)n, fmt, ap);
		va_end(ap);
	}
	return -EINVAL;
}

static char *
trim(char *s)
{
	char *e;

	while (*s == ' ' || *s == '\t' || *s == '\r' || *s == '\n')
		s++;
	e = s + strlen(s);
	while (e > s && (e[-1] == ' ' || e[-1] == '\t' || e[-1] == '\r' || e[-1] == '\n'))
		*--e = '\0';
	return s;
}

/* Remember the line of the current section (entry -1) or of its entry. */
static int
remember(struct scan *sc, int entry)
{
	struct zcs_ini *ini = sc->ini;
	struct zcs_ini_pos *p;

	if (ini->npos == sc->cap) {
		unsigned int cap = sc->cap != 0 ? 2 * sc->cap : 32;

		p = realloc(ini->pos, cap * sizeof(*p));
		if (p == NULL)
			return -ENOMEM;
		ini->pos = p;
		sc->cap = cap;
	}
	p = &ini->pos[ini->npos++];
	p->section = sc->section;
	p->entry = entry;
	p->line = sc->lineno;
	return 0;
}

static int
scan_section(struct scan *sc, const char *s)
{
	size_t n = strlen(s);

	if (s[n - 1] != ']' || n < 3)
		return bad(sc, "'%s': a section is [name]", s);
	if (n - 2 >= CFG_NAME_LEN)
		return bad(sc, "section name longer than %d", CFG_NAME_LEN - 1);
	sc->section++;
	sc->entry = 0;
	return remember(sc, -1);
}

/* One line: what rte_cfgfile would skip, truncate or refuse. */
static int
scan_line(struct scan *sc, char *line)
{
	char *s, *eq, *key, *val, *hash;

	/* rte_cfgfile reads a line into a buffer of this size. */
	if (strlen(line) > CFG_NAME_LEN + CFG_VALUE_LEN + 2)
		return bad(sc, "longer than %d characters", CFG_NAME_LEN + CFG_VALUE_LEN + 2);
	hash = strchr(line, ZCS_INI_COMMENT);
	if (hash != NULL)
		*hash = '\0';
	s = trim(line);
	if (*s == '\0')
		return 0;
	if (*s == '[')
		return scan_section(sc, s);
	eq = strchr(s, '=');
	if (eq == NULL)
		return bad(sc,
			"'%s' is neither [section] nor key = value (comments start with '%c')", s,
			ZCS_INI_COMMENT);
	*eq = '\0';
	key = trim(s);
	val = trim(eq + 1);
	if (*key == '\0')
		return bad(sc, "'= %s' has no key", val);
	if (sc->section < 0)
		return bad(sc, "%s = %s: before any [section]", key, val);
	if (*val == '\0')
		return bad(sc, "%s has an empty value", key);
	if (strlen(key) >= CFG_NAME_LEN)
		return bad(sc, "key longer than %d", CFG_NAME_LEN - 1);
	if (strlen(val) >= CFG_VALUE_LEN)
		return bad(sc, "%s: value longer than %d", key, CFG_VALUE_LEN - 1);
	return remember(sc, sc->entry++);
}

static int
scan_file(struct zcs_ini *ini, FILE *f, char *err, size_t errlen)
{
	struct scan sc = {.ini = ini, .section = -1, .err = err, .errlen = errlen};
	char *line = NULL;
	size_t cap = 0;
	int rc = 0;

	while (rc == 0 && getline(&line, &cap, f) >= 0) {
		sc.lineno++;
		rc = scan_line(&sc, line);
	}
	free(line);
	return rc;
}

int
zcs_ini_load(struct zcs_ini *ini, const char *path, char *err, size_t errlen)
{
	struct rte_cfgfile_parameters params = {.comment_character = ZCS_INI_COMMENT};
	FILE *f;
	int rc;

	memset(ini, 0, sizeof(*ini));
	ini->path = path;
	f = fopen(path, "re");
	if (f == NULL) {
		rc = -errno;
		snprintf(err, errlen, "%s: %s", path, strerror(errno));
		return rc;
	}
	rc = scan_file(ini, f, err, errlen);
	fclose(f);
	if (rc == 0) {
		ini->cfg = rte_cfgfile_load_with_params(path, 0, &params);
		if (ini->cfg == NULL) {
			snprintf(err, errlen,
				"%s: rte_cfgfile could not parse it (see its log line)", path);
			rc = -EINVAL;
		}
	}
	if (rc == -ENOMEM)
		snprintf(err, errlen, "%s: out of memory", path);
	if (rc != 0)
		zcs_ini_free(ini);
	return rc;
}

int
zcs_ini_sections(const struct zcs_ini *ini)
{
	return rte_cfgfile_num_sections(ini->cfg, "", 0);
}

int
zcs_ini_section(const struct zcs_ini *ini, int idx, char *name, struct rte_cfgfile_entry **entries)
{
	int n = rte_cfgfile_section_num_entries_by_index(ini->cfg, name, idx);

	*entries = NULL;
	if (n <= 0)
		return n < 0 ? -EINVAL : 0;
	*entries = calloc((size_t)n, sizeof(**entries));
	if (*entries == NULL)
		return -ENOMEM;
	n = rte_cfgfile_section_entries_by_index(ini->cfg, idx, name, *entries, n);
	if (n < 0) {
		free(*entries);
		*entries = NULL;
		return -EINVAL;
	}
	return n;
}

unsigned int
zcs_ini_line(const struct zcs_ini *ini, int section, int entry)
{
	for (unsigned int i = 0; i < ini->npos; i++)
		if (ini->pos[i].section == section && ini->pos[i].entry == entry)
			return ini->pos[i].line;
	return 0;
}

void
zcs_ini_free(struct zcs_ini *ini)
{
	if (ini->cfg != NULL)
		rte_cfgfile_close(ini->cfg);
	free(ini->pos);
	ini->cfg = NULL;
	ini->pos = NULL;
	ini->npos = 0;
}
