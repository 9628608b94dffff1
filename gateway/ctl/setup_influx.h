/* setup_influx.h — `tryggctl setup-influx`: the store made ready for
 * tryggd's points and for years of them (setup_influx.c says what it
 * creates and why).  Only the entry point is public; tryggctl.c lists it. */
#ifndef TRYGGCTL_SETUP_INFLUX_H
#define TRYGGCTL_SETUP_INFLUX_H

#define SETUP_INFLUX_COMMAND "setup-influx"

/* argv[0] is "setup-influx"; returns an exit status (see --help). */
int ctl_setup_influx(int argc, char *argv[]);

#endif
