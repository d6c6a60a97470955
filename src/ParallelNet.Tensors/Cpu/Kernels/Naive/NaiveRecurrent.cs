namespace ParallelNet.Tensors.Cpu.Kernels.Naive;

/// <summary>Reference twin of <see cref="Recurrent"/>: the textbook LSTM formulas per element, in double.</summary>
public static class NaiveRecurrent
{
    public static void SwapLeadingAxes(ReadOnlySpan<float> x, Span<float> y, int outer, int middle)
    {
        int inner = x.Length / (outer * middle);
        for (int a = 0; a < outer; a++)
        {
            for (int b = 0; b < middle; b++)
            {
                for (int k = 0; k < inner; k++) y[(b * outer + a) * inner + k] = x[(a * middle + b) * inner + k];
            }
        }
    }

    public static void LstmCellForward(Span<float> gates, ReadOnlySpan<float> previousCell, Span<float> cell, Span<float> tanhCell, Span<float> hidden, int hiddenSize)
    {
        int h = hiddenSize, rows = cell.Length / h;
        for (int r = 0; r < rows; r++)
        {
            for (int j = 0; j < h; j++)
            {
                int b = r * 4 * h + j;
                double i = Sigmoid(gates[b]), f = Sigmoid(gates[b + h]), g = Math.Tanh(gates[b + 2 * h]), o = Sigmoid(gates[b + 3 * h]);
                double c = f * previousCell[r * h + j] + i * g;
                gates[b] = (float)i; gates[b + h] = (float)f; gates[b + 2 * h] = (float)g; gates[b + 3 * h] = (float)o;
                cell[r * h + j] = (float)c;
                tanhCell[r * h + j] = (float)Math.Tanh(c);
                hidden[r * h + j] = (float)(o * Math.Tanh(c));
            }
        }
    }

    public static void LstmCellBackward(ReadOnlySpan<float> gates, ReadOnlySpan<float> previousCell, ReadOnlySpan<float> tanhCell,
        ReadOnlySpan<float> hiddenGradient, Span<float> cellGradient, Span<float> gateGradients, int hiddenSize)
    {
        int h = hiddenSize, rows = tanhCell.Length / h;
        for (int r = 0; r < rows; r++)
        {
            for (int j = 0; j < h; j++)
            {
                int b = r * 4 * h + j, s = r * h + j;
                double i = gates[b], f = gates[b + h], g = gates[b + 2 * h], o = gates[b + 3 * h], t = tanhCell[s], dh = hiddenGradient[s];
                // dL/dc = the gradient arriving from step t+1 plus the path through h = o·tanh(c).
                double dc = cellGradient[s] + dh * o * (1 - t * t);
                gateGradients[b] = (float)(dc * g * i * (1 - i));
                gateGradients[b + h] = (float)(dc * previousCell[s] * f * (1 - f));
                gateGradients[b + 2 * h] = (float)(dc * i * (1 - g * g));
                gateGradients[b + 3 * h] = (float)(dh * t * o * (1 - o));
                cellGradient[s] = (float)(dc * f);
            }
        }
    }

    private static double Sigmoid(double x) => 1.0 / (1.0 + Math.Exp(-x));
}
