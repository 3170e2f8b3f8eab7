# Stage 'report': rules added by the report work (see README).
