// The scalar formulas of ParallelNet.Tensors.Cpu.Kernels.Optimizers, operation for operation.

__kernel void sgd_step(WORK_ITEMS, TENSOR(weights), TENSOR(gradients), TENSOR(velocity), const float learning_rate, const float momentum,
    const float weight_decay, const int nesterov, const int first_step)
{
    GUARD(i)
    float g = AT(gradients)[i];
    if (weight_decay != 0.0f) g += weight_decay * AT(weights)[i];
    if (momentum != 0.0f)
    {
        float v = first_step ? g : momentum * AT(velocity)[i] + g;
        AT(velocity)[i] = v;
        g = nesterov ? g + momentum * v : v;
    }
    AT(weights)[i] -= learning_rate * g;
}

__kernel void adam_step(WORK_ITEMS, TENSOR(weights), TENSOR(gradients), TENSOR(first_moment), TENSOR(second_moment),
    const float beta1, const float beta2, const float epsilon, const float weight_decay, const int decoupled,
    const float step_size, const float correction2, const float decay, const float one_minus_beta1, const float one_minus_beta2)
{
    GUARD(i)
    float w = AT(weights)[i];
    float g = AT(gradients)[i];
    if (decoupled) w *= decay;
    else if (weight_decay != 0.0f) g += weight_decay * w;
    float m = beta1 * AT(first_moment)[i] + one_minus_beta1 * g;
    float v = beta2 * AT(second_moment)[i] + one_minus_beta2 * g * g;
    AT(first_moment)[i] = m;
    AT(second_moment)[i] = v;
    float denominator = sqrt(v) / correction2 + epsilon;
    AT(weights)[i] = w - step_size * (m / denominator);
}
