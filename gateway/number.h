/* number.h — numbers as the store and the MQTT payloads print them. */
#ifndef TRYGGD_NUMBER_H
#define TRYGGD_NUMBER_H

#define NUMBER_TEXT_SIZE 32

/* The fewest digits (15 to 17) that strtod reads back to exactly value, so
 * the same double prints the same everywhere.  Relies on the "C" numeric
 * locale, which tryggd never changes.  value must be finite. */
void number_format_double(double value, char out[NUMBER_TEXT_SIZE]);

#endif
