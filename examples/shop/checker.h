/*
 * checker.h - the shop's invariants, checked on the stores at rest (no
 * service running), read-only.
 *
 * It proves the flash sale did not oversell: stock, money and card codes
 * are conserved, every code went to exactly one paid order, and every
 * cancelled order left nothing behind. Each invariant prints one line,
 * PASS or FAIL, with the first offending gid or code.
 */
#ifndef DTX_SHOP_CHECKER_H
#define DTX_SHOP_CHECKER_H

#include <stdbool.h>
#include <stddef.h>
#include <stdio.h>

#define CHECKER_WHY_MAX 320

/* checker_result - the verdict on one invariant. name and says are
 * static. */
typedef struct checker_result {
	const char *name;
	const char *says;
	bool ok;
	char why[CHECKER_WHY_MAX]; /* counts, or the first offender */
} checker_result;

/* checker_count returns the number of invariants checker_eval checks. */
size_t checker_count(void);

/* checker_eval checks the shop in workdir like checker_run but prints
 * nothing: it fills ret[0 .. checker_count()) (max entries at most).
 * Returns the number of failed invariants, or -1 if the stores cannot be
 * read (reason on stderr). */
int checker_eval(const char *workdir, checker_result *ret, size_t max);

/* checker_run checks the shop in workdir (initial.txt and the stores),
 * printing one line per invariant to out. Returns the number of failed
 * invariants, or -1 if the stores cannot be read (reason on stderr). */
int checker_run(const char *workdir, FILE *out);

#endif
