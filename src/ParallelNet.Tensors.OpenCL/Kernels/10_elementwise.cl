__kernel void add(TENSOR(a), TENSOR(b), TENSOR(y))
{
    int i = get_global_id(0);
    AT(y)[i] = AT(a)[i] + AT(b)[i];
}

__kernel void axpy(const float alpha, TENSOR(x), TENSOR(y))
{
    int i = get_global_id(0);
    AT(y)[i] = AT(x)[i] * alpha + AT(y)[i];
}

__kernel void scale(TENSOR(x), const float alpha)
{
    int i = get_global_id(0);
    AT(x)[i] = AT(x)[i] * alpha;
}

__kernel void multiply(TENSOR(a), TENSOR(b), TENSOR(y))
{
    int i = get_global_id(0);
    AT(y)[i] = AT(a)[i] * AT(b)[i];
}

// NaN stays NaN, as with TensorPrimitives.Min/Max.
__kernel void clamp_values(TENSOR(x), const float lo, const float hi)
{
    int i = get_global_id(0);
    float v = AT(x)[i];
    if (v > hi) v = hi;
    if (v < lo) v = lo;
    AT(x)[i] = v;
}

// One partial per chunk of consecutive elements, summed in index order; the host adds the partials in order.
__kernel void sum_of_squares_partials(TENSOR(x), const int length, const int chunk, __global acc_t* partials)
{
    int p = get_global_id(0);
    int start = p * chunk, end = min(start + chunk, length);
    __global float* v = AT(x);
    acc_t sum = 0;
    for (int i = start; i < end; i++) sum += (acc_t)v[i] * v[i];
    partials[p] = sum;
}

__kernel void sum_partials(__global acc_t* terms, const int length, const int chunk, __global acc_t* partials)
{
    int p = get_global_id(0);
    int start = p * chunk, end = min(start + chunk, length);
    acc_t sum = 0;
    for (int i = start; i < end; i++) sum += terms[i];
    partials[p] = sum;
}

__kernel void has_non_finite(TENSOR(x), __global int* flag)
{
    int i = get_global_id(0);
    if (!isfinite(AT(x)[i])) atomic_or(flag, 1);
}

__kernel void add_row_bias(TENSOR(x), TENSOR(bias), const int cols)
{
    int i = get_global_id(0);
    AT(x)[i] += AT(bias)[i % cols];
}

// One work-item per column: rows are added to sum[c] one after another in ascending order, in float, like the CPU.
__kernel void accumulate_column_sums(TENSOR(x), TENSOR(sum), const int rows, const int cols)
{
    int c = get_global_id(0);
    __global float* v = AT(x);
    float total = AT(sum)[c];
    for (int r = 0; r < rows; r++) total += v[r * cols + c];
    AT(sum)[c] = total;
}

__kernel void add_channel_bias(TENSOR(x), TENSOR(bias), const int channels, const int inner)
{
    int i = get_global_id(0);
    AT(x)[i] += AT(bias)[(i / inner) % channels];
}

// partials[plane] = Σ_i x[plane, i] for each (sample, channel) plane.
__kernel void plane_sums(TENSOR(x), const int inner, __global acc_t* partials)
{
    int plane = get_global_id(0);
    __global float* v = AT(x) + plane * inner;
    acc_t sum = 0;
    for (int i = 0; i < inner; i++) sum += v[i];
    partials[plane] = sum;
}

// sum[c] += Σ_n partials[n, c] in ascending n.
__kernel void accumulate_channel_totals(__global acc_t* partials, TENSOR(sum), const int samples, const int channels)
{
    int c = get_global_id(0);
    acc_t total = 0;
    for (int n = 0; n < samples; n++) total += partials[n * channels + c];
    AT(sum)[c] += (float)total;
}
