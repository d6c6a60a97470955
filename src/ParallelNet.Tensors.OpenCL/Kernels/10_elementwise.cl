__kernel void add(WORK_ITEMS, TENSOR(a), TENSOR(b), TENSOR(y))
{
    GUARD(i)
    AT(y)[i] = AT(a)[i] + AT(b)[i];
}

__kernel void axpy(WORK_ITEMS, const float alpha, TENSOR(x), TENSOR(y))
{
    GUARD(i)
    AT(y)[i] = AT(x)[i] * alpha + AT(y)[i];
}

__kernel void scale(WORK_ITEMS, TENSOR(x), const float alpha)
{
    GUARD(i)
    AT(x)[i] = AT(x)[i] * alpha;
}

__kernel void multiply(WORK_ITEMS, TENSOR(a), TENSOR(b), TENSOR(y))
{
    GUARD(i)
    AT(y)[i] = AT(a)[i] * AT(b)[i];
}

// NaN stays NaN, as with TensorPrimitives.Min/Max.
__kernel void clamp_values(WORK_ITEMS, TENSOR(x), const float lo, const float hi)
{
    GUARD(i)
    float v = AT(x)[i];
    if (v > hi) v = hi;
    if (v < lo) v = lo;
    AT(x)[i] = v;
}

// One partial per chunk of consecutive elements, summed in index order; the host adds the partials in order.
__kernel void sum_of_squares_partials(WORK_ITEMS, TENSOR(x), const int length, const int chunk, __global acc_t* partials)
{
    GUARD(p)
    int start = p * chunk, end = min(start + chunk, length);
    __global float* v = AT(x);
    acc_t sum = 0;
    for (int i = start; i < end; i++) sum += (acc_t)v[i] * v[i];
    partials[p] = sum;
}

__kernel void sum_partials(WORK_ITEMS, __global acc_t* terms, const int length, const int chunk, __global acc_t* partials)
{
    GUARD(p)
    int start = p * chunk, end = min(start + chunk, length);
    acc_t sum = 0;
    for (int i = start; i < end; i++) sum += terms[i];
    partials[p] = sum;
}

__kernel void has_non_finite(WORK_ITEMS, TENSOR(x), __global int* flag)
{
    GUARD(i)
    if (!isfinite(AT(x)[i])) atomic_or(flag, 1);
}

__kernel void add_row_bias(WORK_ITEMS, TENSOR(x), TENSOR(bias), const int cols)
{
    GUARD(i)
    AT(x)[i] += AT(bias)[i % cols];
}

// One work-item per column: rows are added to sum[c] one after another in ascending order, in float, like the CPU.
__kernel void accumulate_column_sums(WORK_ITEMS, TENSOR(x), TENSOR(sum), const int rows, const int cols)
{
    GUARD(c)
    __global float* v = AT(x);
    float total = AT(sum)[c];
    for (int r = 0; r < rows; r++) total += v[r * cols + c];
    AT(sum)[c] = total;
}

__kernel void add_channel_bias(WORK_ITEMS, TENSOR(x), TENSOR(bias), const int channels, const int inner)
{
    GUARD(i)
    AT(x)[i] += AT(bias)[(i / inner) % channels];
}

// partials[plane] = Σ_i x[plane, i] for each (sample, channel) plane.
__kernel void plane_sums(WORK_ITEMS, TENSOR(x), const int inner, __global acc_t* partials)
{
    GUARD(plane)
    __global float* v = AT(x) + plane * inner;
    acc_t sum = 0;
    for (int i = 0; i < inner; i++) sum += v[i];
    partials[plane] = sum;
}

// sum[c] += Σ_n partials[n, c] in ascending n.
__kernel void accumulate_channel_totals(WORK_ITEMS, __global acc_t* partials, TENSOR(sum), const int samples, const int channels)
{
    GUARD(c)
    acc_t total = 0;
    for (int n = 0; n < samples; n++) total += partials[n * channels + c];
    AT(sum)[c] += (float)total;
}
