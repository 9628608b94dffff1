/* report.h — `tryggctl report`: the planners' trend report from the store,
 * one self-contained HTML file (or --format csv) per district and for all
 * of them (report.c says what it holds and why).  Only the entry point is
 * public; tryggctl.c lists it. */
#ifndef TRYGGCTL_REPORT_H
#define TRYGGCTL_REPORT_H

#define REPORT_COMMAND "report"

/* argv[0] is "report"; returns an exit status (see --help). */
int ctl_report(int argc, char *argv[]);

#endif
