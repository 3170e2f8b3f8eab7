# Stage 'runs': rules added by the runs work (see README).
