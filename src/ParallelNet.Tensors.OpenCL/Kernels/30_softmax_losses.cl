// One work-item per row of [rows, cols]; each row subtracts its maximum before exponentiating.

inline float row_max(__global const float* row, int cols)
{
    float m = row[0];
    for (int j = 1; j < cols; j++) m = fmax(m, row[j]);
    return m;
}

__kernel void softmax_rows(WORK_ITEMS, TENSOR(x), TENSOR(y), const int cols)
{
    GUARD(r)
    __global float* in = AT(x) + r * cols;
    __global float* out = AT(y) + r * cols;
    float shift = row_max(in, cols);
    float sum = 0.0f;
    for (int j = 0; j < cols; j++)
    {
        float e = exp(in[j] - shift);
        out[j] = e;
        sum += e;
    }
    for (int j = 0; j < cols; j++) out[j] = out[j] / sum;
}

__kernel void log_softmax_rows(WORK_ITEMS, TENSOR(x), TENSOR(y), const int cols)
{
    GUARD(r)
    __global float* in = AT(x) + r * cols;
    __global float* out = AT(y) + r * cols;
    float shift = row_max(in, cols);
    float sum = 0.0f;
    for (int j = 0; j < cols; j++) sum += exp(in[j] - shift);
    float log_sum = log(sum);
    for (int j = 0; j < cols; j++) out[j] = (in[j] - shift) - log_sum;
}

__kernel void softmax_backward_rows(WORK_ITEMS, TENSOR(y), TENSOR(dy), TENSOR(dx), const int cols)
{
    GUARD(r)
    __global float* out = AT(y) + r * cols;
    __global float* g = AT(dy) + r * cols;
    __global float* result = AT(dx) + r * cols;
    float dot = 0.0f;
    for (int j = 0; j < cols; j++) dot += g[j] * out[j];
    for (int j = 0; j < cols; j++) result[j] = (g[j] - dot) * out[j];
}

// bad[0] = the first row whose label is not a class index (it starts at INT_MAX); the host turns it into an error.
__kernel void check_labels(WORK_ITEMS, TENSOR(labels), const int classes, __global int* bad)
{
    GUARD(r)
    float value = AT(labels)[r];
    int label = (int)value;
    if ((float)label != value || label < 0 || label >= classes) atomic_min(bad, r);
}

// Rows with an invalid label compute with label 0 so nothing reads out of bounds; check_labels reports them.
inline int safe_label(float value, int classes)
{
    int label = (int)value;
    return ((float)label == value && label >= 0 && label < classes) ? label : 0;
}

__kernel void softmax_cross_entropy_rows(WORK_ITEMS, TENSOR(logits), TENSOR(labels), TENSOR(dlogits), const float grad_scale,
    const int classes, __global acc_t* losses)
{
    GUARD(r)
    int label = safe_label(AT(labels)[r], classes);
    __global float* row = AT(logits) + r * classes;
    __global float* grad = AT(dlogits) + r * classes;
    float shift = row_max(row, classes);
    float sum = 0.0f;
    for (int j = 0; j < classes; j++) sum += exp(row[j] - shift);
    float log_sum = log(sum);
    losses[r] = (acc_t)(log_sum - (row[label] - shift)); // a float difference, as the CPU adds it
    for (int j = 0; j < classes; j++)
    {
        float g = exp((row[j] - shift) - log_sum);
        if (j == label) g -= 1.0f;
        grad[j] = g * grad_scale;
    }
}

__kernel void binary_cross_entropy_terms(WORK_ITEMS, TENSOR(logits), TENSOR(targets), TENSOR(dlogits), const float grad_scale, __global acc_t* terms)
{
    GUARD(i)
    float x = AT(logits)[i], t = AT(targets)[i];
    float e = exp(-fabs(x));
    terms[i] = (acc_t)(fmax(x, 0.0f) - x * t + log(1.0f + e));
    float sigmoid = x >= 0.0f ? 1.0f / (1.0f + e) : e / (1.0f + e);
    AT(dlogits)[i] = (sigmoid - t) * grad_scale;
}

__kernel void half_squared_error_terms(WORK_ITEMS, TENSOR(predictions), TENSOR(targets), TENSOR(dpredictions), const float grad_scale, __global acc_t* terms)
{
    GUARD(i)
    float d = AT(predictions)[i] - AT(targets)[i];
    terms[i] = (acc_t)0.5 * d * d;
    AT(dpredictions)[i] = d * grad_scale;
}

__kernel void multiclass_hinge_rows(WORK_ITEMS, TENSOR(scores), TENSOR(labels), TENSOR(dscores), const float grad_scale,
    const int classes, __global acc_t* losses)
{
    GUARD(r)
    int label = safe_label(AT(labels)[r], classes);
    __global float* row = AT(scores) + r * classes;
    __global float* grad = AT(dscores) + r * classes;
    float correct = row[label];
    float violations = 0.0f;
    acc_t total = 0;
    for (int j = 0; j < classes; j++)
    {
        float margin = row[j] - correct + 1.0f;
        if (j != label && margin > 0.0f)
        {
            total += margin;
            grad[j] = grad_scale;
            violations += 1.0f;
        }
        else grad[j] = 0.0f;
    }
    grad[label] = -violations * grad_scale;
    losses[r] = total;
}

__kernel void correct_rows(WORK_ITEMS, TENSOR(scores), TENSOR(labels), const int classes, __global int* correct)
{
    GUARD(r)
    __global float* row = AT(scores) + r * classes;
    int arg = 0;
    for (int j = 1; j < classes; j++)
    {
        if (row[j] > row[arg]) arg = j;
    }
    correct[r] = arg == safe_label(AT(labels)[r], classes) ? 1 : 0;
}
