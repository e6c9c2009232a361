/*
 * tamper.h - the proof that the checker can fail: tampered copies of a
 * finished run, one invariant at a time, each of which the checker must
 * reject, naming that invariant (as tests/integration/shop_test.c does for
 * the shop's checker). It writes only inside the copies.
 */
#ifndef DTX_CHAOS_TAMPER_H
#define DTX_CHAOS_TAMPER_H

/* tamper_self_test checks workdir (a finished, stopped run whose check
 * passes), then for each case copies it to workdir.tamper-NAME, breaks
 * one invariant in the copy (stores, log or history), checks the copy and
 * expects that invariant to fail. Prints one line per case. Returns 0 if
 * every case was caught, -1 otherwise. */
int tamper_self_test(const char *workdir);

/* tamper_remove_tree removes dir and everything under it (rm -rf).
 * Returns 0 or -1. */
int tamper_remove_tree(const char *dir);

#endif
