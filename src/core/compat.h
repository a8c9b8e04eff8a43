/* SPDX-License-Identifier: ISC */
/*
 * Compiler attributes shared by every tern file, and the poisoning of
 * libc functions that tern bans (STYLE.md section 5).  Included by
 * every core header, so it reaches every translation unit.
 */
#ifndef TERN_CORE_COMPAT_H
#define TERN_CORE_COMPAT_H

#define ATTR_FORMAT(fmt, args) __attribute__((format(printf, fmt, args)))
#define ATTR_NORETURN __attribute__((noreturn))
#define ATTR_WUR __attribute__((warn_unused_result))
#define ATTR_MALLOC __attribute__((malloc))
#define ATTR_UNUSED __attribute__((unused))

#define N_ELEMENTS(a) (sizeof(a) / sizeof((a)[0]))

/*
 * Poisoning must come after every system header that may use these
 * names in macros or inline functions, so it is opt-out for the rare
 * file that includes such a header late (none so far).
 */
#ifndef TERN_NO_POISON
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
/* Fortified headers may define some of these as macros; they go too. */
#undef strcpy
#undef strcat
#undef sprintf
#undef vsprintf
#undef gets
#undef strncpy
#undef strncat
#undef alloca
#pragma GCC poison strcpy strcat sprintf vsprintf gets strtok strncpy strncat
#pragma GCC poison atoi atol alloca
#endif

#endif
