"""PrivPad's data plane: the one way tables are parsed, stored and read.

- `dialect`: the CSV rules (delimiter, quoting, spaces, missing values, true/false words,
  types), shared by upload profiling and every conversion.
- `convert`: a dataset's CSV, converted once (at upload, or on first use for older datasets)
  into a typed Arrow table.
- `files`: Arrow IPC table files with their schema in the metadata, memory-mapped reads, pandas
  and numpy views, previews; `legacy` still opens the CSV artifacts of older runs.
- `export`: tables back to CSV, for the user's downloads.

Plain Python (pandas, pyarrow): no Django, so the console, components and benchmarks share it.
"""
