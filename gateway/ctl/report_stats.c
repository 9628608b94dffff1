/* report_stats.c — the statistics of `tryggctl report`, pure functions
 * with no pointer kept (report_internal.h says what each computes).
 *
 * Student's t distribution comes from the regularised incomplete beta
 * function, evaluated by its continued fraction (modified Lentz), so that
 * the 95 % interval of a trend over a week (5 degrees of freedom: 2.57)
 * is as right as over a year (1.97); the quantile is found by bisection,
 * which is slow but runs a handful of times per report. */
#include <math.h>
#include <stddef.h>

#include "report_internal.h"

#define BETA_ITERATIONS 300
#define BETA_EPSILON 1e-15
#define TINY 1e-300

/* One step of the modified Lentz method: the continued fraction's next
 * term, numerator, folded into c and d; the factor the value moves by. */
static double lentz_step(double numerator, double *c, double *d)
{
	*d = 1.0 + numerator * *d;
	*c = 1.0 + numerator / *c;
	if (fabs(*d) < TINY)
		*d = TINY;
	if (fabs(*c) < TINY)
		*c = TINY;
	*d = 1.0 / *d;
	return *d * *c;
}

/* The continued fraction of I_x(a, b) (x below (a+1)/(a+b+2)). */
static double beta_fraction(double a, double b, double x)
{
	double c = 1.0, d = 1.0 - (a + b) * x / (a + 1.0);
	if (fabs(d) < TINY)
		d = TINY;
	d = 1.0 / d;
	double h = d;
	for (int m = 1; m <= BETA_ITERATIONS; m++) {
		double m2 = 2.0 * m;
		h *= lentz_step(m * (b - m) * x / ((a + m2 - 1.0) * (a + m2)), &c, &d);
		double step = lentz_step(-(a + m) * (a + b + m) * x / ((a + m2) * (a + m2 + 1.0)), &c, &d);
		h *= step;
		if (fabs(step - 1.0) < BETA_EPSILON)
			break;
	}
	return h;
}

/* The regularised incomplete beta function I_x(a, b). */
static double incomplete_beta(double a, double b, double x)
{
	if (x <= 0.0)
		return 0.0;
	if (x >= 1.0)
		return 1.0;
	double front = exp(lgamma(a + b) - lgamma(a) - lgamma(b) + a * log(x) + b * log1p(-x));
	if (x < (a + 1.0) / (a + b + 2.0))
		return front * beta_fraction(a, b, x) / a;
	return 1.0 - front * beta_fraction(b, a, 1.0 - x) / b;
}

double report_t_cdf(double t, double dof)
{
	double tail = 0.5 * incomplete_beta(dof / 2.0, 0.5, dof / (dof + t * t));
	return t >= 0 ? 1.0 - tail : tail;
}

double report_t_quantile(double p, double dof)
{
	double low = -1e4, high = 1e4;
	for (int i = 0; i < 200 && high - low > 1e-12; i++) {
		double middle = 0.5 * (low + high);
		if (report_t_cdf(middle, dof) < p)
			low = middle;
		else
			high = middle;
	}
	return 0.5 * (low + high);
}

void report_trend_fit(const double *x, const double *y, size_t count, struct report_trend *trend)
{
	double sum_x = 0, sum_y = 0;
	size_t n = 0;
	*trend = (struct report_trend){ .mean = NAN, .slope = NAN, .slope_low = NAN, .slope_high = NAN,
	                                .percent = NAN, .percent_low = NAN, .percent_high = NAN };
	for (size_t i = 0; i < count; i++)
		if (!isnan(y[i])) {
			sum_x += x[i];
			sum_y += y[i];
			n++;
		}
	trend->n = n;
	if (n == 0)
		return;
	double mean_x = sum_x / (double)n, mean_y = sum_y / (double)n, sxx = 0, sxy = 0;
	trend->mean = mean_y;
	for (size_t i = 0; i < count; i++)
		if (!isnan(y[i])) {
			sxx += (x[i] - mean_x) * (x[i] - mean_x);
			sxy += (x[i] - mean_x) * (y[i] - mean_y);
		}
	if (n < 3 || sxx <= 0)
		return;
	double slope = sxy / sxx, intercept = mean_y - slope * mean_x, residuals = 0;
	for (size_t i = 0; i < count; i++)
		if (!isnan(y[i])) {
			double r = y[i] - intercept - slope * x[i];
			residuals += r * r;
		}
	double standard_error = sqrt(residuals / (double)(n - 2) / sxx);
	double half = report_t_quantile(0.975, (double)(n - 2)) * standard_error;
	trend->slope = slope;
	trend->slope_low = slope - half;
	trend->slope_high = slope + half;
	if (mean_y > 0) {
		double to_percent = 30.0 * 100.0 / mean_y;
		trend->percent = slope * to_percent;
		trend->percent_low = trend->slope_low * to_percent;
		trend->percent_high = trend->slope_high * to_percent;
		trend->valid = true;
	}
}

/* Mean and sample variance of the known values. */
static size_t moments(const double *values, size_t count, double *mean, double *variance)
{
	double sum = 0, squares = 0;
	size_t n = 0;
	for (size_t i = 0; i < count; i++)
		if (!isnan(values[i])) {
			sum += values[i];
			n++;
		}
	*mean = n ? sum / (double)n : NAN;
	for (size_t i = 0; i < count; i++)
		if (!isnan(values[i]))
			squares += (values[i] - *mean) * (values[i] - *mean);
	*variance = n > 1 ? squares / (double)(n - 1) : NAN;
	return n;
}

void report_welch(const double *a, size_t n_a, const double *b, size_t n_b, struct report_welch *welch)
{
	double variance_a, variance_b;
	*welch = (struct report_welch){ .t = NAN, .dof = NAN };
	welch->n_a = moments(a, n_a, &welch->mean_a, &variance_a);
	welch->n_b = moments(b, n_b, &welch->mean_b, &variance_b);
	if (welch->n_a < 2 || welch->n_b < 2)
		return;
	double part_a = variance_a / (double)welch->n_a, part_b = variance_b / (double)welch->n_b;
	double squared = part_a + part_b;
	if (!(squared > 0))
		return;
	welch->t = (welch->mean_b - welch->mean_a) / sqrt(squared);
	welch->dof = squared * squared / (part_a * part_a / (double)(welch->n_a - 1) +
	                                  part_b * part_b / (double)(welch->n_b - 1));
	welch->valid = true;
}

enum report_certainty report_certainty_of(const struct report_welch *welch)
{
	if (!welch->valid)
		return REPORT_TOO_FEW;
	double size = fabs(welch->t);
	return size >= 3.0 ? REPORT_CLEAR : size >= 2.0 ? REPORT_LIKELY : REPORT_CANNOT_TELL;
}

void report_did(const double *changed, const double *others, size_t count, size_t change_index,
                struct report_did *did)
{
	double sums[2][2] = { { 0, 0 }, { 0, 0 } };   /* [after][changed, others] */
	size_t n[2] = { 0, 0 };
	double differences[count ? count : 1];
	*did = (struct report_did){ 0 };
	for (size_t i = 0; i < count; i++) {
		bool known = !isnan(changed[i]) && !isnan(others[i]);
		differences[i] = known ? changed[i] - others[i] : NAN;
		if (!known)
			continue;
		size_t side = i >= change_index;
		sums[side][0] += changed[i];
		sums[side][1] += others[i];
		n[side]++;
	}
	did->n_before = n[0];
	did->n_after = n[1];
	did->changed_before = n[0] ? sums[0][0] / (double)n[0] : NAN;
	did->others_before = n[0] ? sums[0][1] / (double)n[0] : NAN;
	did->changed_after = n[1] ? sums[1][0] / (double)n[1] : NAN;
	did->others_after = n[1] ? sums[1][1] / (double)n[1] : NAN;
	did->difference = (did->changed_after - did->changed_before) - (did->others_after - did->others_before);
	size_t split = change_index < count ? change_index : count;
	report_welch(differences, split, differences + split, count - split, &did->welch);
}

size_t report_episodes(const double *fault_hours, size_t count, struct report_episode *out, size_t max)
{
	size_t found = 0;
	bool open = false;
	struct report_episode current = { 0 };
	for (size_t i = 0; i < count; i++) {
		if (isnan(fault_hours[i]))
			continue;                      /* no data: neither mended nor seen broken */
		if (fault_hours[i] > 0) {
			if (!open)
				current = (struct report_episode){ .first = i };
			open = true;
			current.last = i;
			current.hours += fault_hours[i];
		} else if (open) {
			if (found < max)
				out[found] = current;
			found++;
			open = false;
		}
	}
	if (open) {
		current.open = true;
		if (found < max)
			out[found] = current;
		found++;
	}
	return found;
}

double report_covered_share(double coverage_sum, double window_s, double span_s)
{
	if (!(span_s > 0) || !(window_s > 0))
		return 0;
	double share = coverage_sum * window_s / span_s;
	return share > 1.0 ? 1.0 : share < 0 ? 0 : share;
}

double report_scale(double raw, double share, double threshold)
{
	if (!(share > 0) || share < threshold)
		return NAN;
	return raw / share;
}
