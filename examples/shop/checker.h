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

#include <stdio.h>

/* checker_run checks the shop in workdir (initial.txt and the stores),
 * printing one line per invariant to out. Returns the number of failed
 * invariants, or -1 if the stores cannot be read (reason on stderr). */
int checker_run(const char *workdir, FILE *out);

#endif
