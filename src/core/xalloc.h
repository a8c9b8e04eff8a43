/* SPDX-License-Identifier: ISC */
/*
 * Allocation that never fails visibly: on exhaustion these log and
 * abort().  Callers bound what a peer can make them allocate instead of
 * handling NULL (STYLE.md section 4).
 */
#ifndef TERN_CORE_XALLOC_H
#define TERN_CORE_XALLOC_H

#include <stddef.h>

#include "core/compat.h"

ATTR_MALLOC void *xmalloc(size_t size);
ATTR_MALLOC void *xcalloc(size_t nmemb, size_t size);
/* Like reallocarray(): nmemb * size is checked for overflow. */
void *xreallocarray(void *ptr, size_t nmemb, size_t size);
ATTR_MALLOC char *xstrdup(const char *s);
ATTR_MALLOC char *xstrndup(const char *s, size_t n);
/* Formats into a fresh heap string. */
ATTR_MALLOC ATTR_FORMAT(1, 2) char *xasprintf(const char *fmt, ...);

#endif
