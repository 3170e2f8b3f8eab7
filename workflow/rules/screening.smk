# Stage 'screening': rules added by the screening work (see README).
