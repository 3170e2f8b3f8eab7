# Stage 'prisma': rules added by the prisma work (see README).
