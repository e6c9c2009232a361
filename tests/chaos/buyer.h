/*
 * buyer.h - the workload: a separate process (dtx-chaos buyer ...) whose
 * threads make purchases as fast as the shop answers, each one a
 * five-step saga, an initiator-driven TCC reservation or a
 * coordinator-run TCC transaction, and append what the buyer was told to
 * the history file (history.h).
 *
 * The buyers are not all rich (payment refuses some) and the stock is
 * smaller than what they would buy (inventory refuses the late ones): the
 * business refusals of the issue. Each purchase's waits are bounded, so
 * the process ends within BUYER_DRAIN_MS of SIGTERM or of --max-s.
 */
#ifndef DTX_CHAOS_BUYER_H
#define DTX_CHAOS_BUYER_H

#define BUYER_DRAIN_MS 45000 /* a purchase's longest life */

/* buyer_main runs the workload; argv[0] is "buyer". Returns the exit
 * status (64: bad flags). */
int buyer_main(int argc, char **argv);

#endif
